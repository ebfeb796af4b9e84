from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.urls import account_patterns, team_patterns
from albums.urls import collection_patterns, share_patterns
from predictions.urls import hint_patterns, input_patterns, prediction_patterns, prompt_patterns, signed_output_patterns
from reviews.urls import gallery_patterns, review_patterns

from . import views

urlpatterns = [
    path("", include("home.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("predictions/", include(prediction_patterns)),
    path("prompts/", include(prompt_patterns)),
    path("inputs/", include(input_patterns)),
    path("deerapi/hints/", include(hint_patterns)),
    path("outputs/", include(signed_output_patterns)),
    path("usage/", include("billing.urls")),
    path("review/", include(review_patterns)),
    path("gallery/", include(gallery_patterns)),
    path("audit/", include("audit.urls")),
    path("team/", include(team_patterns)),
    path("accounts/", include(account_patterns)),
    path("webhooks/", include("webhooks.urls")),
    path("collections/", include(collection_patterns)),
    path("s/", include(share_patterns)),
    path("notifications/", include("notifications.urls")),
    path("alerts/", include("alerts.urls")),
    path("", include("ops.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("replicate/", include("api.urls")),
    path("admin/", admin.site.urls),
]

# The error pages: the site's header and a way back (the 500 page without touching the database).
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
