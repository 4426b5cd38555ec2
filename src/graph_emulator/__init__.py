"""A stateful, Graph-compatible emulator of Microsoft Entra ID, served over HTTPS.

It stands in for Microsoft Graph and the Microsoft identity platform in the demo,
the tests and the benchmarks. The engine (``entra_backup``) never imports it.
"""
