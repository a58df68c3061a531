"""Root URL configuration. The URL shapes are part of the product: keep them."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Roadmap site administration"
admin.site.site_title = "Roadmap site admin"
admin.site.index_title = "Curriculum and accounts"

# A database that cannot be reached answers 503 with Retry-After (roadmap_site/errors.py).
handler500 = "roadmap_site.errors.server_error"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("accounts.urls")),
    path("", include("roadmap.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
