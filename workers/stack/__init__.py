"""The one-machine stack: start, supervise and stop the embedded broker and Redis (no routing logic)."""
