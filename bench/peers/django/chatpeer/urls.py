"""HTTP routes of the peer: only the health check the bench script waits for."""
from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("healthz", lambda request: HttpResponse("ok"))]
