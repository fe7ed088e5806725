"""Results on their way to ICHLabel: each a JSON file in the node's outbox until ICHLabel has it.

A result is written whole (``os.replace``) before anything is sent, so a node that loses power
or its network loses none. ``deliver`` posts every waiting result; ICHLabel answers 201 (new)
or 200 (it had this key already: an earlier answer was lost), and either way the file goes. The
result's ``key`` is the idempotency key: ICHLabel records each key once, so a result is
counted once however often it is sent.
"""

import json
import os
from pathlib import Path
from typing import Any

from ichlabel_edge.client import Client, ServerUnreachable

OUTBOX = "outbox"


class Outbox:
    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / OUTBOX
        self.directory.mkdir(parents=True, exist_ok=True)

    def put(self, result: dict[str, Any]) -> Path:
        """Keep ``result`` (it must carry its ``key``) until it is delivered."""
        key = str(result["key"])
        if Path(key).name != key or key.startswith("."):
            raise ValueError(f"a result key must be a plain name, not {key!r}")
        path = self.directory / f"{key}.json"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(result))
        os.replace(partial, path)
        return path

    def waiting(self) -> list[Path]:
        return sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)

    def deliver(self, client: Client) -> dict[str, int]:
        """Send every waiting result, oldest first; stop at the first that cannot be sent."""
        delivered = 0
        for path in self.waiting():
            try:
                client.report(json.loads(path.read_text()))
            except ServerUnreachable:
                break
            path.unlink()
            delivered += 1
        return {"delivered": delivered, "waiting": len(self.waiting())}
