from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from predictions import health_views, site_views
from predictions import views as prediction_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="predictions:list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("predictions/", include("predictions.urls")),
    path("usage/", include("predictions.usage_urls")),
    # Catalog and history: the prompt library; uploaded input images DeerAPI fetches (no login).
    path("prompts/", include("predictions.prompt_urls")),
    path("inputs/<uuid:token>/", prediction_views.input_image_file, name="input_image"),
    # Roles and review: the queue, the team gallery, the audit log, the team, passwords.
    path("review/", include("predictions.review_urls")),
    path("gallery/", include("predictions.gallery_urls")),
    path("audit/", include("predictions.audit_urls")),
    path("team/", include("predictions.team_urls")),
    path("accounts/", include("predictions.account_urls")),
    # Operations: the health report for monitoring and the liveness check (no login).
    path("healthz", health_views.healthz, name="healthz"),
    path("livez", health_views.livez, name="livez"),
    path("favicon.ico", site_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
]

# The error pages: the site's header and a way back (the 500 page without touching the database).
handler403 = site_views.permission_denied
handler404 = site_views.page_not_found
handler500 = site_views.server_error
