"""The unsubscribe page: no login. GET shows what the link would do and a button (mail
scanners that follow links must not unsubscribe anyone); POST does it, and is also what
mail clients send for RFC 8058 one-click unsubscribe (List-Unsubscribe-Post), hence no
CSRF token: the signed, single-use token in the URL is the authority."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications import preferences


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        if request.method == "POST":
            outcome = preferences.unsubscribe(token=token)
            return render(request, "notifications/unsubscribe.html", {"done": True, **outcome})
        outcome = preferences.unsubscribe_describe(token=token)
        return render(request, "notifications/unsubscribe.html", {"done": False, **outcome})
    except preferences.UnsubscribeLinkUsed:
        return render(request, "notifications/unsubscribe.html", {"used": True}, status=410)
    except preferences.UnsubscribeLinkInvalid:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
