from django.urls import path

from notifications import views

urlpatterns = [
    path("<str:token>/", views.unsubscribe, name="notification-unsubscribe"),
]
