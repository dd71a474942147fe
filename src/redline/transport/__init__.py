"""Network adapters: the HTTPS client that delivers to peers, and the uvicorn
protocol that exposes the peer's pinned client certificate to the link app.
Errors of httpx and ssl are translated here and never leak upward.
"""
