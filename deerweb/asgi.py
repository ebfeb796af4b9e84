"""The web process's application: `uvicorn deerweb.asgi:application` (Procfile, Dockerfile).

ASGI, so an async view can wait on a prediction (ops.notifier) without holding a worker; the
sync views and middleware run as under WSGI, in threads. deerweb/wsgi.py stays for WSGI servers.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

application = get_asgi_application()
