"""A toy FAQ bot with two answer sets: the one in production (OLD) and a rewrite (NEW).

The tests beside this file check, with a local judge, that every rewritten answer beats the old one.
"""

from __future__ import annotations

OLD = {
    "How do I reset my password?": "Passwords can be reset.",
    "Can I get a refund?": "Refunds are subject to our policy.",
    "How do I contact support?": "Contact support.",
    "Do you ship internationally?": "Shipping depends.",
    "How do I delete my account?": "You can't.",
}

NEW = {
    "How do I reset my password?": (
        "Go to Settings > Security, click 'Reset password', and follow the link we email you. "
        "The link expires after 30 minutes."
    ),
    "Can I get a refund?": (
        "Yes. Unused items can be returned within 30 days for a full refund to your original payment "
        "method; start a return from Orders > Return item."
    ),
    "How do I contact support?": (
        "Email support@example.com or use the chat button at the bottom right of any page; we answer "
        "within one business day."
    ),
    "Do you ship internationally?": (
        "Yes, we ship to over 40 countries. Shipping costs and delivery times are shown at checkout "
        "after you enter your address."
    ),
    "How do I delete my account?": (
        "Go to Settings > Account and choose 'Delete account'. Your data is removed within 30 days; "
        "download anything you want to keep first."
    ),
}


def old_bot(question: str) -> str:
    return OLD[question]


def new_bot(question: str) -> str:
    return NEW[question]
