from django.urls import path

from . import views

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("new/", views.account_create, name="account_create"),
    path("<uuid:pk>/", views.account_detail, name="account_detail"),
    path("<uuid:pk>/edit/", views.account_edit, name="account_edit"),
    path("<uuid:pk>/delete/", views.account_delete, name="account_delete"),
]
