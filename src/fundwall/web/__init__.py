"""The web console (控制台): FastAPI pages with Jinja2, HTMX and ECharts, in Chinese and English.

    app = create_app(service, settings, access=access)
    install_console(app, keyring=keyring, keys_dir=settings.keys_dir,
                    telecom_registry=registry, recycled_days=settings.phones.recycled_days,
                    policy=settings.policy, data_dir=settings.data_dir)

See docs/console.md.
"""

from fundwall.web.console import install_console

__all__ = ["install_console"]
