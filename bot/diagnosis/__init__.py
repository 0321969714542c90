"""From an exchange's reply to the real cause. Transport-free: never imports `telegram`."""

from bot.diagnosis.classify import classify_error, classify_result, diagnose_report
from bot.diagnosis.model import CAMPAIGN_PERMISSIONS, CampaignType, Cause, Diagnosis, Permission
from bot.diagnosis.parse import extract_echoed_ip
from bot.diagnosis.precheck import precheck

__all__ = [
    "CAMPAIGN_PERMISSIONS",
    "CampaignType",
    "Cause",
    "Diagnosis",
    "Permission",
    "classify_error",
    "classify_result",
    "diagnose_report",
    "extract_echoed_ip",
    "precheck",
]
