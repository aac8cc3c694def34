"""A toy FAQ bot with two answer sets: the one in production (OLD) and a rewrite (NEW).

Length does not decide which is better: two of the old answers are long but useless (one of them
also wrong), and their rewrites are shorter. `LONGER_BUT_WRONG` holds longer answers that contradict
the shop's policy, for the test that the judge does not reward length over correctness.
"""

from __future__ import annotations

OLD = {
    "How do I reset my password?": (
        "Thank you so much for reaching out to us about your account! We completely understand how important "
        "it is to have access to your account at all times, and we are always happy to help our valued "
        "customers with any questions they may have about passwords, security, or anything else."
    ),
    "Can I get a refund?": "Refunds are subject to our policy.",
    "How do I contact support?": (
        "Our support team is made up of dedicated professionals who care deeply about every customer, and we "
        "are proud of the service we offer. We value your feedback and we are always looking for ways to "
        "improve the experience we provide to you and to everyone else."
    ),
    "Do you ship internationally?": "Shipping depends.",
    "How do I delete my account?": (
        "Unfortunately accounts cannot be deleted once they have been created, because our systems keep every "
        "account permanently for security and record-keeping reasons, so there is nothing you can do to remove "
        "yours, but you can simply stop using it whenever you like."
    ),
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
        "Email support@example.com or use the chat button on any page; we reply within one business day."
    ),
    "Do you ship internationally?": (
        "Yes, we ship to over 40 countries. Shipping costs and delivery times are shown at checkout "
        "after you enter your address."
    ),
    "How do I delete my account?": (
        "Go to Settings > Account and choose 'Delete account'. Your data is removed within 30 days."
    ),
}

# Longer than the right answer and wrong about the policy (returns are accepted for 30 days).
LONGER_BUT_WRONG = {
    "How many days do I have to return an item?": (
        "30 days from delivery.",
        "You have 7 days from the date of your order to return an item, after which every sale is final and "
        "no refunds or exchanges can be offered under any circumstances.",
    ),
}


def old_bot(question: str) -> str:
    return OLD[question]


def new_bot(question: str) -> str:
    return NEW[question]
