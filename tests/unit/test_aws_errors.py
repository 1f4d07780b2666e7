"""One AWS-error formatter for Cost Explorer, the refresh and the drivers."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from finops.data import aws_errors


def client_error(code: str | None, message: str | None) -> ClientError:
    error = {k: v for k, v in {"Code": code, "Message": message}.items() if v is not None}
    return ClientError({"Error": error}, "GetCostAndUsage")


@pytest.mark.parametrize(
    ("exc", "code", "described"),
    [
        (client_error("AccessDeniedException", "User: x is not authorized\nsecond line"), "AccessDeniedException",
         "AccessDeniedException: User: x is not authorized"),
        (client_error("ThrottlingException", ""), "ThrottlingException", "ThrottlingException"),
        (client_error("DataUnavailableException", None), "DataUnavailableException", "DataUnavailableException"),
        (client_error(None, "no code at all"), "ClientError", "ClientError: no code at all"),
        (EndpointConnectionError(endpoint_url="https://ce.example"), "EndpointConnectionError",
         'EndpointConnectionError: Could not connect to the endpoint URL: "https://ce.example"'),
        (NoCredentialsError(), "NoCredentialsError", "NoCredentialsError: Unable to locate credentials"),
        (RuntimeError("disk full\nmore detail"), "RuntimeError", "RuntimeError: disk full"),
        (RuntimeError(""), "RuntimeError", "RuntimeError"),
    ],
)  # fmt: skip
def test_code_and_one_line_description(exc, code, described):
    assert aws_errors.error_code(exc) == code
    assert aws_errors.describe(exc) == described
    assert "\n" not in aws_errors.error_message(exc)


def test_response_code_of_a_parsed_error():
    assert aws_errors.response_code({"Error": {"Code": "ThrottlingException"}}) == "ThrottlingException"
    assert aws_errors.response_code({"ResponseMetadata": {}}) == "ClientError"
