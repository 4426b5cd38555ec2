"""AADSTS error responses, shaped and worded like the Microsoft identity platform's.

Sources of codes, wording and HTTP statuses are listed in docs/emulator-identity.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CERT_DOCS = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"


@dataclass
class StsError(Exception):
    """One identity-platform error: HTTP status, OAuth ``error``, AADSTS code and message."""

    status: int
    error: str
    code: int
    message: str

    def __str__(self) -> str:
        return f"AADSTS{self.code}: {self.message}"

    def body(self, now: float, correlation_id: str | None = None) -> dict[str, Any]:
        """The JSON body, with trace and correlation ids and a timestamp."""
        trace_id = str(uuid.uuid4())
        correlation = correlation_id or str(uuid.uuid4())
        stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
                       f"Correlation ID: {correlation}\r\nTimestamp: {stamp}")
        return {
            "error": self.error, "error_description": description,
            "error_codes": [self.code], "timestamp": stamp, "trace_id": trace_id,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


def tenant_not_found(segment: str, *, discovery: bool = False) -> StsError:
    """AADSTS90002; discovery answers ``invalid_tenant``, the token endpoint ``invalid_request``."""
    return StsError(400, "invalid_tenant" if discovery else "invalid_request", 90002,
                    f"Tenant '{segment}' not found. Check to make sure you have the correct "
                    "tenant ID and are signing into the correct cloud. Check with your "
                    "subscription administrator, this may happen if there are no active "
                    "subscriptions for the tenant.")


def missing_parameter(name: str) -> StsError:
    return StsError(400, "invalid_request", 900144,
                    f"The request body must contain the following parameter: '{name}'.")


def post_only(method: str) -> StsError:
    return StsError(400, "invalid_request", 900561,
                    f"The endpoint only accepts POST requests. Received a {method} request.")


def unsupported_grant(grant_type: str) -> StsError:
    return StsError(400, "unsupported_grant_type", 70003,
                    f"The app requested an unsupported grant type '{grant_type}'.")


def app_not_found(client_id: str, tenant_label: str) -> StsError:
    return StsError(400, "unauthorized_client", 700016,
                    f"Application with identifier '{client_id}' was not found in the directory "
                    f"'{tenant_label}'. This can happen if the application has not been installed "
                    "by the administrator of the tenant or consented to by any user in the "
                    "tenant. You may have sent your authentication request to the wrong tenant.")


def credentials_missing() -> StsError:
    return StsError(401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: 'client_assertion' "
                    "or 'client_secret'.")


def invalid_secret(client_id: str) -> StsError:
    return StsError(401, "invalid_client", 7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{client_id}'.")


def expired_secret(client_id: str) -> StsError:
    return StsError(401, "invalid_client", 7000222,
                    f"The provided client secret keys for app '{client_id}' are expired. Visit "
                    "the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                    "for added security: https://aka.ms/certCreds.")


def scope_not_default(scope: str) -> StsError:
    return StsError(400, "invalid_scope", 1002012,
                    f"The provided value for scope {scope} is not valid. Client credential flows "
                    "must have a scope value with /.default suffixed to the resource identifier "
                    "(application ID URI).")


def scope_invalid(scope: str) -> StsError:
    return StsError(400, "invalid_scope", 70011,
                    "The provided request must include a 'scope' input parameter. The provided "
                    f"value for the input parameter 'scope' is not valid. The scope {scope} is "
                    "not valid.")


def resource_not_found(resource: str, tenant_label: str) -> StsError:
    return StsError(400, "invalid_resource", 500011,
                    f"The resource principal named {resource} was not found in the tenant named "
                    f"{tenant_label}. This can happen if the application has not been installed "
                    "by the administrator of the tenant or consented to by any user in the "
                    "tenant. You might have sent your authentication request to the wrong tenant.")


def assertion_malformed(reason: str) -> StsError:
    return StsError(401, "invalid_client", 50027, f"JWT token is invalid or malformed. {reason}")


def assertion_key_not_found(thumbprint: str, client_id: str) -> StsError:
    return StsError(401, "invalid_client", 700027,
                    "The certificate with identifier used to sign the client assertion is not "
                    "registered on application. [Reason - The key was not found., Thumbprint of "
                    f"key used by client: '{thumbprint}', Please visit the Azure Portal, Graph "
                    "Explorer or directly use MS Graph to see configured keys for app Id "
                    f"'{client_id}'.]")


def assertion_bad_signature(thumbprint: str) -> StsError:
    return StsError(401, "invalid_client", 700027,
                    "Client assertion failed signature validation. [Reason - The provided "
                    "signature value did not match the expected signature value., Thumbprint of "
                    f"key used by client: '{thumbprint}']")


def assertion_wrong_audience() -> StsError:
    return StsError(401, "invalid_client", 700023,
                    "Client assertion audience claim does not match Realm issuer. Review the "
                    f"documentation at {CERT_DOCS} .")


def assertion_wrong_client() -> StsError:
    return StsError(401, "invalid_client", 700021,
                    "Client assertion application identifier doesn't match 'client_id' "
                    f"parameter. Review the documentation at {CERT_DOCS} .")


def assertion_out_of_time(now: str, valid_from: str, expires: str) -> StsError:
    return StsError(401, "invalid_client", 700024,
                    f"Client assertion is not within its valid time range. Current time: {now}, "
                    f"assertion valid from {valid_from}, expiry time of assertion {expires}. "
                    f"Review the documentation at {CERT_DOCS}")


def unexpected_assertion_type() -> StsError:
    return StsError(400, "invalid_request", 90011, "Unexpected client assertion type.")
