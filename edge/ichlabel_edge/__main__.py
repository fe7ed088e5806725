"""The agent's command line: ``python -m ichlabel_edge --config FILE install DIR | rollback |
status | enrol --token T | sync | scan | run [--interval S]``.

``enrol``, ``sync`` and ``run`` talk to ICHLabel (the config's ``[ichlabel]`` table): enrol with
the one-time token; one round of heartbeat and update; ``scan`` one round on the PACS (the
``[pacs]`` table); rounds of both forever (the service).

Every command prints one JSON object on stdout, so a script or the future agent loop reads the
outcome without parsing prose; a refusal or failure also says why on stderr, one line. Exit
status: 0 done (for ``status``: an active build that verifies); 1 the build was refused (or, for
``status``, none verifies: the node cannot serve); 2 the config or the command line is wrong;
3 the node could not do it (disk, state file, a concurrent run): trying again may succeed.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ichlabel_edge.agent import agent_of, enrol
from ichlabel_edge.client import NotEnrolled, ServerUnreachable
from ichlabel_edge.config import ConfigError, NodeConfig, load_config
from ichlabel_edge.pacs import PacsError, PacsUnreachable
from ichlabel_edge.slots import NodeError, Slots
from modelops.builds.manifest import BuildRefused

DEFAULT_CONFIG = Path("/etc/ichlabel-edge/config.toml")
REFUSED, USAGE, NODE_ERROR = 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ichlabel-edge",
        description="ICHLabel's inference-node agent: install, roll back and check builds.",
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the node's TOML")
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install", help="verify, health-check and switch to a build")
    install.add_argument("build_dir", type=Path, help="a folder holding the build's files")
    commands.add_parser("rollback", help="switch back to the previous build")
    commands.add_parser("status", help="the active and previous builds, verified again")
    enrol_command = commands.add_parser("enrol", help="enrol with ICHLabel's one-time token")
    enrol_command.add_argument("--token", required=True, help="the one-time enrolment token")
    commands.add_parser("sync", help="one heartbeat; install or roll back as ICHLabel says")
    commands.add_parser("scan", help="score the PACS's new series once; deliver the results")
    run = commands.add_parser("run", help="heartbeat and update forever (the service)")
    run.add_argument("--interval", type=float, default=30.0, help="seconds between rounds")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config)
        slots = Slots(config.data_dir, config.public_key())
    except ConfigError as error:
        return _fail({"error": str(error)}, str(error), USAGE)
    try:
        if args.command in ("enrol", "sync", "scan", "run"):
            return _talk(args, config)
        if args.command == "install":
            switch = slots.install(args.build_dir)
            return _print({"installed": True, **switch.as_dict()}, 0)
        if args.command == "rollback":
            switch = slots.rollback()
            return _print({"rolled_back": True, **switch.as_dict()}, 0)
        status = slots.status()
        serving = bool(status["active"] and status["active"]["verified"])
        return _print(status, 0 if serving else REFUSED)
    except BuildRefused as error:
        return _fail(_outcome(args.command, False, str(error)), str(error), REFUSED)
    except NodeError as error:
        return _fail(_outcome(args.command, False, str(error)), str(error), NODE_ERROR)


def _talk(args: argparse.Namespace, config: NodeConfig) -> int:
    """The commands that talk to ICHLabel."""
    try:
        if args.command == "enrol":
            return _print(enrol(config, args.token), 0)
        agent = agent_of(config)
        if args.command == "run":
            agent.run(args.interval)
        if args.command == "scan":
            return _print(agent.scan(), 0)
        outcome = agent.sync()
        return _print(outcome, REFUSED if outcome["action"] in ("refused", "failed") else 0)
    except ConfigError as error:
        return _fail({"error": str(error)}, str(error), USAGE)
    except NotEnrolled as error:
        return _fail({"error": str(error)}, str(error), REFUSED)
    except (ServerUnreachable, PacsUnreachable, PacsError, ValueError) as error:
        return _fail({"error": str(error)}, str(error), NODE_ERROR)


def _outcome(command: str, done: bool, reason: str) -> dict[str, Any]:
    key = {"install": "installed", "rollback": "rolled_back"}.get(command, "ok")
    return {key: done, "reason": reason}


def _print(result: dict[str, Any], code: int) -> int:
    print(json.dumps(result, indent=2))
    return code


def _fail(result: dict[str, Any], reason: str, code: int) -> int:
    print(f"ichlabel-edge: {reason}", file=sys.stderr)
    return _print(result, code)


if __name__ == "__main__":
    sys.exit(main())
