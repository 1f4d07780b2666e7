"""Sources of cost rows; each yields DataFrames of the cost contract (see CONTRACT_COLUMNS)."""

from finops.settings import Settings

CONTRACT_COLUMNS = [
    "day",
    "provider",
    "account_id",
    "account_name",
    "service",
    "region",
    "unblended_cost",
    "amortized_cost",
    "currency",
    "estimated",
]


def aws_credentials_found() -> bool:
    """True when boto3's normal chain (env, profile, instance role) finds credentials."""
    import boto3

    return boto3.Session().get_credentials() is not None


def resolve_source(settings: Settings) -> str:
    """The source in effect: the configured one, or for `auto` aws when credentials exist, else demo."""
    if settings.source != "auto":
        return settings.source
    return "aws" if aws_credentials_found() else "demo"
