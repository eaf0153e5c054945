"""Routes under /contacts/: the relations, the action endpoints and the user lists."""

from rest_framework.routers import SimpleRouter

from contacts.views import ContactViewSet

router = SimpleRouter()
router.register("", ContactViewSet, basename="contact")

urlpatterns = router.urls
