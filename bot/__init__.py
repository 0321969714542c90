"""HuFi key-support bot: checks exchange API keys the way HuFi does and explains failures."""

__version__ = "0.1.0"
