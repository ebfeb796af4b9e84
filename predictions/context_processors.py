from django.conf import settings
from django.http import HttpRequest


def deerweb(request: HttpRequest) -> dict[str, object]:
    return {"sandbox": settings.SANDBOX}
