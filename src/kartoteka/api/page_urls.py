"""``/profile/…``: the user's own pages of the API (tokens)."""

from django.urls import path

from kartoteka.api import pages

urlpatterns = [
    path("tokens/", pages.token_list, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="api_token_revoke"),
]
