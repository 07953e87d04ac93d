"""An account's API tokens go when its password changes (by the user, on the account page, or by a
platform admin) or it is disabled, however the change was made."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token


@receiver(post_save, sender=get_user_model(), dispatch_uid="revoke-tokens")
def revoke_tokens(sender, instance, created, **kwargs):
    # Django keeps the new raw password on the user until save() has finished.
    if not created and (getattr(instance, "_password", None) is not None or not instance.is_active):
        Token.objects.filter(user=instance).delete()
