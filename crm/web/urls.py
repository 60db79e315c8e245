from django.urls import path

from . import styleguide, views

urlpatterns = [
    path("", views.home, name="home"),
    path("tenants/switch/", views.tenant_switch, name="tenant_switch"),
    path("styleguide/", styleguide.styleguide, name="styleguide"),
    path("styleguide/errors/<int:code>/", styleguide.error_preview, name="styleguide_error"),
]
