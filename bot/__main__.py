"""Command line: `python -m bot run | demo | check --exchange ID | status | stats`.

Bad settings are printed one line each and exit with code 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import ConfigError, Settings
from bot.diagnosis.model import CampaignType
from bot.exchanges.catalog import UnknownExchangeError, get_spec
from bot.exchanges.credentials import Credentials
from bot.exchanges.report import KeyCheckReport
from bot.logging_setup import setup_logging
from bot.verdict import verdict_view

MARKS = {"granted": "OK  ", "failed": "FAIL", "not_checked": "--  ", "waiting": "..  "}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="HuFi key-support bot")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")
    demo = sub.add_parser("demo", help="try the bot offline in this terminal")
    demo.add_argument("--script", help=argparse.SUPPRESS)
    check = sub.add_parser("check", help="check an API key from the command line (asks for it, never from argv)")
    check.add_argument("--exchange", required=True, help="exchange id, e.g. mexc")
    check.add_argument("--campaign-type", choices=[c.value for c in CampaignType])
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    status = sub.add_parser("status", help="print the health of HuFi, the exchanges and the bot")
    status.add_argument("--self", dest="self_only", action="store_true", help="only the bot process and database")
    stats = sub.add_parser("stats", help="draw the support insights picture (PNG) from the database")
    stats.add_argument("--days", default="7", help="the period: 7d, 30d or a number of days, 1-365 (default 7)")
    stats.add_argument("--out", required=True, help="where to write the PNG")
    stats.add_argument("--tz", help="time zone of the day boundaries, e.g. Europe/Berlin (default UTC)")
    args = parser.parse_args(argv)

    if args.command == "check":
        return asyncio.run(_check(args.exchange, args.campaign_type, args.json))
    if args.command == "demo":
        from bot.sandbox.demo import run_demo

        return asyncio.run(run_demo(script=args.script))
    try:
        settings = Settings.from_env(require_token=args.command == "run")
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if args.command == "stats":
        from bot.insights.cli import run_stats

        return run_stats(args, settings)
    if args.command == "run":
        from bot.runner import run_bot

        return run_bot(settings)
    from bot.runner import print_status

    return asyncio.run(print_status(settings, self_only=args.self_only))


async def _check(exchange_id: str, campaign: str | None, as_json: bool) -> int:
    from bot.exchanges.factory import ClientFactory
    from bot.exchanges.probes import KeyChecker

    try:
        spec = get_spec(exchange_id)
    except UnknownExchangeError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(require_token=False)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging("WARNING")
    creds = Credentials("", "")
    if not spec.needs_key:
        print(f"{spec.display_name} needs no API key. {spec.connect_hint}")
        return 0
    if spec.needs_key:
        api_key = getpass.getpass(f"{spec.display_name} API key: ")
        secret = getpass.getpass("Secret key: ")
        extras = {c.name: getpass.getpass(f"{c.label}: ") for c in spec.extra_credentials}
        creds = Credentials.clean(api_key, secret, extras.get("passphrase"), extras.get("memo"))
    world = None
    overrides = None
    if settings.exchange_sandbox:
        from bot.sandbox.world import SandboxWorld

        world = SandboxWorld([spec.id])
        overrides = await world.start()
        print(f"(EXCHANGE_SANDBOX: checking against the simulated {spec.display_name})", file=sys.stderr)
    try:
        report = await KeyChecker(ClientFactory(url_overrides=overrides)).check(spec.id, creds)
    finally:
        if world is not None:
            await world.stop()
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render_report(report, campaign, settings.hufi_outbound_ips))
    return 0 if report.ok else 1


def render_report(report: KeyCheckReport, campaign: str | None, outbound_ips: Sequence[str] = ()) -> str:
    """The report as plain text: per permission, then the verdict (the same view the chat and the card show)."""
    view = verdict_view(report, outbound_ips=outbound_ips)
    lines = [f"{view.exchange_name} key {view.fingerprint}"]
    for probe in view.probes:
        detail = probe.summary or probe.exchange_code or ""
        lines.append(f"  [{MARKS[probe.status.value]}] {probe.permission.value:<28} {detail}")
    lines.append("")
    if view.ok:
        lines.append("Every permission HuFi checks is granted.")
        if view.hufi_next:
            lines.append(f"In HuFi: {view.hufi_next}")
    else:
        lines.append(f"Cause: {view.title} ({view.cause})")
        if view.alternatives:
            lines.append("Could also be: " + ", ".join(a.title for a in view.alternatives))
        said = view.said
        if said is not None and (said.words or said.code):
            words = f"“{said.words}”" if said.words else ""
            code = f"code {said.code}" if said.code else ""
            lines.append(f"{view.exchange_name} said: " + (f"{words} ({code})" if words and code else words or code))
        elif said is not None and said.note:
            lines.append(f"What the check saw: {said.note}")
        for n, step in enumerate(view.steps, 1):
            lines.append(f"  {n}. {step.title}: {step.text}")
        if not view.recheck and not view.stopped_early:
            lines.append("Checking this same key again won't help: it needs new key details.")
    types = [ct.value for ct in view.qualifies]
    lines.append("Qualifies for: " + (", ".join(types) if types else "no campaign type yet"))
    if campaign:
        ok = CampaignType(campaign) in view.qualifies
        lines.append(f"{campaign}: {'yes' if ok else 'no'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
