"""ICHLabel's inference-node agent: runs beside a hospital PACS on a Jetson-class node, without
Django or PostgreSQL.

What exists so far is the build installation: a build from ICHLabel is verified against the
pinned key, health-checked on this node's runtime and switched in atomically, with the previous
build kept for a rollback (``slots``, ``health``, ``runtime``; the command line in
``__main__``). Fetching builds from ICHLabel, watching the PACS and reporting come later.
"""
