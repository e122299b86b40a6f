"""The public portal (公众服务): a person whose account a bank restricted signs in with their
resident ID and a one-time code, reads why and where to appeal, appeals, follows the answer
and closes an account online. A FastAPI app mounted at /portal of `fundwall serve`
(docs/public.md).

    install_portal(app, keyring=keyring, settings=settings.portal,
                   appeals=settings.appeals, policy=settings.policy)
"""

from fundwall.portal.app import install_portal

__all__ = ["install_portal"]
