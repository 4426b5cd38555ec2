"""The errors Microsoft Graph answers when a call's token or permissions are not enough."""

from __future__ import annotations

from graph_emulator.identity.tokens import TokenError, TokenFailure
from graph_emulator.protocol import GraphError

WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)
NOT_WELL_FORMED = (
    "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or "
    "JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. "
    "(JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector."
    "EncodedCiphertext.EncodedAuthenticationTag'."
)
MESSAGES = {
    TokenFailure.MISSING: "Access token is empty.",
    TokenFailure.MALFORMED: "Access token validation failure.",
    TokenFailure.BAD_SIGNATURE: "Access token validation failure.",
    TokenFailure.EXPIRED: "Access token has expired or is not yet valid.",
    TokenFailure.NOT_YET_VALID: "Access token has expired or is not yet valid.",
    TokenFailure.WRONG_AUDIENCE: "Access token validation failure. Invalid audience.",
    TokenFailure.WRONG_TENANT: "Access token validation failure.",
}


class AuthError(GraphError):
    """Graph's 401 ``InvalidAuthenticationToken``; ``failure`` says which check failed."""

    def __init__(self, failure: TokenFailure, message: str) -> None:
        super().__init__(401, "InvalidAuthenticationToken", message,
                         headers={"WWW-Authenticate": WWW_AUTHENTICATE})
        self.failure = failure

    @classmethod
    def from_token_error(cls, error: TokenError, token: str | None = None) -> AuthError:
        """The 401 Graph sends for a refused token, worded as the real service words it."""
        if error.failure is TokenFailure.MALFORMED and token is not None and "." not in token:
            return cls(error.failure, NOT_WELL_FORMED)
        return cls(error.failure, MESSAGES[error.failure])


def permission_denied() -> GraphError:
    """Graph's 403 for a token without the permission an endpoint requires.

    Its ``body(date=..., request_id=..., client_request_id=...)`` is the JSON Graph sends,
    ``innerError`` included.
    """
    return GraphError(403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
