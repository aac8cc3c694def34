"""A toy support bot with an old and a new answer set: what the team's judged tests compare.

The new answers are better (they answer the question asked, correctly); a third of them are shorter
than the old answer, so "the longer answer wins" does not decide the suite.
"""

from __future__ import annotations

# question -> (new answer, old answer)
ANSWERS: dict[str, tuple[str, str]] = {
    "How do I reset my password?": (
        "Open Settings > Security, choose Reset password, and follow the link we email you.",
        "Passwords are important. We take security seriously and recommend strong passwords.",
    ),
    "How long does standard shipping take?": (
        "Standard shipping takes 3 to 5 business days.",
        "Shipping times can vary for many reasons, including weather, carrier capacity, holidays, the "
        "destination, customs and the warehouse the order ships from, so it is hard to say in general.",
    ),
    "Can I change my delivery address after ordering?": (
        "Yes, until the order ships: open Orders, pick the order and choose Edit address.",
        "No.",
    ),
    "How do I cancel my subscription?": (
        "Go to Account > Subscription and press Cancel; you keep access until the period ends.",
        "To cancel, please call us.",
    ),
    "What payment methods do you accept?": (
        "We accept Visa, Mastercard, American Express, PayPal and bank transfer.",
        "We accept many kinds of payment from customers all over the world, and we are always looking "
        "at adding more options in the future to make paying easier for everyone.",
    ),
    "Do you ship internationally?": (
        "Yes, to 40 countries; the checkout shows whether yours is one of them.",
        "Our office is open from nine to five.",
    ),
    "How do I return an item?": (
        "Start a return from Orders > Return item within 30 days; we email a prepaid label.",
        "Returns are sometimes possible.",
    ),
    "When will I get my refund?": (
        "Within 5 business days after the returned item reaches our warehouse.",
        "Refunds are handled by our finance team, which processes many requests every day and works "
        "through them in the order they arrive, as quickly as it reasonably can.",
    ),
    "How do I contact support?": (
        "Use the chat button on any page, or email support@example.com; we answer within a day.",
        "Support exists.",
    ),
    "Can I use two discount codes on one order?": (
        "No, one discount code per order; the checkout keeps the larger discount.",
        "Discount codes are a great way to save money, and we publish new codes in our newsletter, on "
        "our social media pages and sometimes on the packaging of products you buy from us.",
    ),
    "How do I change my email address?": (
        "Open Settings > Profile, edit Email, and confirm the change from the new address.",
        "Email is a common way to communicate.",
    ),
    "Is my payment information stored securely?": (
        "Yes: card details are held by our PCI-certified payment provider, never on our servers.",
        "Probably.",
    ),
    "How do I track my order?": (
        "Open Orders and choose Track; the carrier's live status and tracking number are there.",
        "Orders are shipped by carriers.",
    ),
    "What is your warranty?": (
        "Two years against manufacturing defects, from the delivery date.",
        "Our products are built with care from quality materials by a team that is proud of its work, "
        "and most customers never have any problems with them at all.",
    ),
    "Can I order without an account?": (
        "Yes, choose Guest checkout; you can create an account later with the same email.",
        "Accounts are useful.",
    ),
    "How do I delete my account?": (
        "Settings > Privacy > Delete account; we erase your data within 30 days.",
        "We would be sad to see you go.",
    ),
    "Do you offer gift wrapping?": (
        "Yes, for 3 euros per item: tick Gift wrap at checkout.",
        "Gifts are a lovely way to show that you care, whether for a birthday, an anniversary, a holiday "
        "or simply to say thank you to someone who matters to you.",
    ),
    "Why was my card declined?": (
        "Usually a wrong expiry date or CVC, or your bank blocked an online payment; try again or call your bank.",
        "Cards get declined.",
    ),
    "Can I pick up my order in a store?": (
        "Yes, choose Click and collect at checkout and pick it up within 7 days with your order number.",
        "Stores are places where products are sold.",
    ),
    "How do I update my billing address?": (
        "Open Settings > Billing, edit the address, and save.",
        "Billing addresses are used for billing, and they are an important part of every order we "
        "receive, because the bank checks that the address matches the one it has on file for the card.",
    ),
    "Do you price match?": (
        "Yes, within 14 days of purchase if a major retailer sells the same item for less; send us the link.",
        "Prices change.",
    ),
    "How do I apply a discount code?": (
        "Type it in the Discount code box on the checkout page and press Apply.",
        "Discount codes can be found in many places.",
    ),
    "What happens if my package is lost?": (
        "Tell us within 30 days; we open a claim with the carrier and resend or refund the order.",
        "Packages are rarely lost.",
    ),
    "Can I change the size of an item I ordered?": (
        "Yes: return it for free and order the other size, or use Exchange in Orders.",
        "Sizes differ between brands, countries and even between products of the same brand, which is "
        "why many people find choosing the right size online difficult and sometimes frustrating.",
    ),
    "How do I turn off marketing emails?": (
        "Click Unsubscribe at the bottom of any email, or untick Newsletters in Settings > Notifications.",
        "We only send emails we think you will like.",
    ),
    "Do you have a student discount?": (
        "Yes, 10% off with a verified student email; verify it under Account > Discounts.",
        "Students are welcome.",
    ),
    "How do I report a damaged item?": (
        "Send photos through Orders > Report a problem within 14 days; we replace or refund it.",
        "Items are packed carefully in our warehouse by experienced staff who check every box before it "
        "leaves, so damage is very unusual and we hope it never happens to you.",
    ),
    "Can I schedule a delivery date?": (
        "Yes, for large items: pick a day in the Delivery step of checkout.",
        "Deliveries happen on weekdays.",
    ),
    "How do I download my invoice?": (
        "Open Orders, choose the order, and press Download invoice (PDF).",
        "Invoices are sent.",
    ),
    "Is there a mobile app?": (
        "Yes, for iOS and Android; search for Example Shop in your app store.",
        "Phones are very popular these days, and many people prefer to do their shopping on them while "
        "travelling, waiting or relaxing at home in the evening after work.",
    ),
}


def new_bot(question: str) -> str:
    return ANSWERS[question][0]


def old_bot(question: str) -> str:
    return ANSWERS[question][1]
