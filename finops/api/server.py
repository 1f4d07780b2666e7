"""Run the API with uvicorn on FINOPS_API_HOST:FINOPS_API_PORT (127.0.0.1:8000 unless set)."""

import uvicorn

from finops.settings import Settings


def serve(settings: Settings) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM); FINOPS_API_WORKERS processes share the port."""
    uvicorn.run(
        "finops.api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
