"""The Microsoft Graph client: MSAL tokens, a per-tenant throttle budget, the retrying
request loop, paging, delta merge and ``$batch``. Start from ``client.GraphClient``."""
