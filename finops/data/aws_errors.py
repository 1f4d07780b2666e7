"""One way to name and describe an AWS error, whichever boto3 client raised it.

`error_code` is what the Cost Explorer spend log and the refresh's advice key on; `describe` is the one line
shown wherever an AWS call failed (Data Sources, a stop/start result, the logs).
"""

from botocore.exceptions import ClientError

# the caller's credentials are wrong or expired: renewing them is the fix
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "RequestExpired",
    }
)
# the credentials are good but the role lacks the permission
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
# still throttled once botocore's retries ran out
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "LimitExceededException", "Throttling", "TooManyRequestsException"}
)


def response_code(response: dict) -> str:
    """The error code of a parsed AWS response ("ClientError" when it names none)."""
    return str((response.get("Error") or {}).get("Code") or "ClientError")


def error_code(exc: BaseException) -> str:
    """AWS's error code for a ClientError, else the exception's class name (EndpointConnectionError, ...)."""
    return response_code(exc.response) if isinstance(exc, ClientError) else type(exc).__name__


def error_message(exc: BaseException) -> str:
    """The first line of the error's message ("" when it has none)."""
    text = (exc.response.get("Error") or {}).get("Message") if isinstance(exc, ClientError) else str(exc)
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def describe(exc: BaseException) -> str:
    """`Code: first line of the message`, or the code alone when there is no message."""
    message = error_message(exc)
    return f"{error_code(exc)}: {message}" if message else error_code(exc)
