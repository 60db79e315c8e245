from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tenants/switch/", views.tenant_switch, name="tenant_switch"),
]
