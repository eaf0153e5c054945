"""Side effects that leave the process, through Django's tasks framework: email now, webhooks too (docs/deploy.md)."""
