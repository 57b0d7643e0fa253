"""Artifact paths that must never be accepted: MLflow's path-traversal CVEs."""

from __future__ import annotations

TRAVERSAL_PATHS = [
    "../etc/passwd",  # CVE-2023-30172
    "a/../../b",
    "..\\..\\x",  # CVE-2023-1177, CVE-2023-2780
    "a\\b",
    "%2e%2e/x",  # encoded once
    "%252e%252e/x",  # encoded twice (CVE-2024-1560)
    "%25252e%25252e/x",
    "/etc/passwd",  # absolute (CVE-2023-1176)
    "%2fetc/passwd",
    "C:/Windows/system32",  # drive letters
    "c:x",
    "a\x00b",  # NUL
    "a%00b",
    "x#/../../etc",  # fragments (CVE-2023-6909, CVE-2024-3848)
    "x;/../../etc",  # ';' parameters (CVE-2024-1593)
]
