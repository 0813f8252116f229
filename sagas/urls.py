from django.urls import path

from sagas import apis

urlpatterns = [
    path("", apis.SagaListApi.as_view(), name="saga-list"),
    path("<uuid:saga_id>/", apis.SagaDetailApi.as_view(), name="saga-detail"),
]
