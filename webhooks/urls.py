"""Routes under /webhooks/."""

from rest_framework.routers import SimpleRouter

from webhooks.views import WebhookViewSet

router = SimpleRouter()
router.register("", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
