"""Category lexicons: weighted phrases per canonical category, written from what each category covers.

Phrases go through the same normalisation and stemming as message text, so one inflection per phrase is
enough ("charge" also matches "charged", "charges", "charging"). Within a category, the longest phrase at a
position wins and shorter overlapping ones are ignored, so "reset password" counts once, not with "password".
Weights: ~3 decisive cue, ~2 strong, ~1 topical, <1 a hint. Zero-weight entries mark a context that
should silence a shorter cue (e.g. "the seller" is a buyer talking about a third-party seller).
"""

from __future__ import annotations

from typing import NamedTuple

ACCOUNT_ACCESS: dict[str, float] = {
    "password": 3, "pasword": 3, "passwd": 3, "passcode": 2.5, "pin": 1, "forgot password": 3.5,
    "reset password": 3.5, "reset link": 3, "password reset": 3.5, "wrong password": 3.5,
    "incorrect password": 3.5, "invalid password": 3.5, "otp": 3, "one time password": 3, "one time pin": 3,
    "verification code": 3, "verify code": 3, "auth code": 3, "authentication code": 3, "2fa": 3,
    "two factor": 3, "two-factor": 3, "2-step": 3, "authenticator": 3, "security question": 3,
    "log in": 2.5, "login": 2.5, "log into": 2.5, "logon": 2.5, "sign in": 2.5, "signin": 2.5,
    "sign into": 2.5, "cant log": 3, "cant login": 3, "cant sign": 3, "cant access": 2.5,
    "cant get into": 3, "logged out": 2.5, "sign up": 2.5, "signup": 2.5, "register": 2.5,
    "registration": 2.5, "registered": 2.5, "not registered": 3, "create an account": 3, "create account": 3,
    "open an account": 3, "new account": 2, "locked out": 3, "unlock": 3, "blocked": 1.5,
    "account blocked": 3, "account suspended": 3, "suspended": 2.5, "suspension": 2, "deactivated": 3,
    "disabled": 1.5, "reactivate": 3, "reactivation": 3, "restore my account": 3, "restore access": 3,
    "hacked": 3, "compromised": 2.5, "without my permission": 1, "lost access": 3, "no access": 2,
    "access my account": 3, "access to my account": 3, "access to the account": 3, "username": 3,
    "user name": 3, "verification email": 3, "verify my email": 3, "verify my account": 3,
    "verify my number": 3, "verify": 1.5, "verification": 1.5, "activation link": 3, "activate my account": 3,
    "activation": 2, "change my email": 3, "change email": 2.5, "email address": 1, "phone number": 1,
    "change my phone number": 3, "recover my account": 3, "account recovery": 3, "delete my account": 2.5,
    "account": 0.75, "profile": 1.5, "bvn": 1.5, "kyc": 1.5, "admin": 2, "administrator": 2,
    "owner rights": 3, "account owner": 3, "ownership": 2, "permission": 1.5, "access rights": 3,
    "role": 1.5, "add a user": 3, "add user": 3, "add another user": 3, "new user": 2.5, "remove user": 3,
    "add an agent": 3, "add agent": 3, "add another agent": 3, "team member": 2, "invite": 1.5,
    "workspace": 1, "own login": 3,
    "already in use": 2.5, "already registered": 3, "already exist": 2.5, "two accounts": 2.5,
    "merge accounts": 3, "change password": 3.5, "change my password": 3.5, "new password": 3, "reset my pin": 3,
    "face id": 2.5, "fingerprint": 2, "biometric": 2.5, "session expired": 1.5, "keeps logging me out": 3.5,
    "signed out": 2.5, "access": 1, "give access": 3, "grant access": 3, "revoke access": 3, "colleague": 1.5,
    "sign me in": 3, "log me in": 3, "login details": 3.5, "credentials": 2.5, "staff member": 1.5,
    "former employee": 1.5, "no longer works": 1.5,
    "verification sms": 3, "authentication": 2, "access denied": 2, "owner": 1, "locked": 2.5,
}

ORDER_STATUS: dict[str, float] = {
    "order": 1, "ordered": 1, "my order": 2.5, "order status": 3.5, "status of my order": 3.5,
    "status of the order": 3.5, "order number": 1.5, "order id": 1.5, "order detail": 2,
    "order history": 2.5, "order page": 2, "order update": 2.5, "update on my order": 3,
    "placed an order": 2.5, "place an order": 2.5, "placed my order": 2.5, "placing my order": 2.5,
    "placing an order": 2.5, "the order i placed": 3, "order i placed": 3, "confirm my order": 3.5,
    "confirm the order": 3.5, "order confirmation": 3.5, "confirmation": 1.5,
    "confirmed": 1.5, "not confirmed": 2.5, "awaiting confirmation": 3, "went through": 2.5,
    "was successful": 2, "successful": 1, "pending": 2, "still pending": 2.5, "processing": 2,
    "still processing": 2.5, "approved": 1, "status": 1.5, "current status": 2.5, "check the status": 2.5,
    "stuck": 1, "modify my order": 3, "change my order": 3, "edit my order": 3, "edit order": 3,
    "add to my order": 3, "quantity": 1.5, "haven't heard": 1, "heard anything": 1, "no update": 1.5,
    "when will my order": 2, "item": 0.5, "items": 0.5,
    "past orders": 3, "previous orders": 3, "any news": 2, "any update": 2, "news on": 2,
    "update on": 1.5, "on hold": 3, "order on hold": 3.5,
    "placed": 1.5, "successfully": 1, "i ordered": 1.5, "we ordered": 1.5, "order received": 2.5,
    "ready for shipment": 3.5, "ready to ship": 3.5, "ready for dispatch": 3.5, "awaiting shipment": 3.5,
    "awaiting dispatch": 3.5, "not yet shipped": 3, "not shipped": 3, "yet to be shipped": 3,
    "not been dispatched": 3, "yet to be dispatched": 3, "being packed": 3, "not moving": 1.5,
}

PAYMENT_BILLING: dict[str, float] = {
    "payment": 1.5, "pay": 1, "paid": 1.5, "charge": 1.5, "charged": 1.5, "charged twice": 4,
    "double charge": 4, "double charged": 4, "charged double": 4, "charged two times": 4,
    "debited twice": 4, "deducted twice": 4, "duplicate charge": 4, "duplicate payment": 4,
    "paid twice": 4, "billed twice": 4, "debited": 3, "debit alert": 3, "deduct": 2.5,
    "deducted": 2.5, "money left my account": 3, "left my account": 2.5, "money was taken": 3,
    "payment failed": 3, "failed payment": 3, "transaction failed": 3, "failed transaction": 3,
    "transfer failed": 3, "declined": 2.5, "card declined": 3, "transaction": 2, "unauthorized": 2.5,
    "unauthorized transaction": 4, "unauthorized charge": 4, "not authorize": 2.5,
    "did not make": 2, "i did not make": 3, "fraudulent": 2.5, "fraud": 2, "scam": 1.5, "scammer": 1.5,
    "stolen my money": 2.5, "invoice": 3, "vat invoice": 3.5, "tax invoice": 3.5, "receipt": 3, "wrong plan": 3,
    "charged for": 2,
    "proof of payment": 3, "statement": 1.5, "billing": 2.5, "billed": 2.5,
    "billing cycle": 0.5, "billing period": 0.5,  # a point in time ("once this billing cycle ends"), not a bill
    "overcharged": 3.5, "overcharge": 3.5, "wrong amount": 3, "full amount": 1.5, "amount": 1,
    "wallet": 3, "wallet balance": 3.5, "top up": 3, "topup": 3, "fund my wallet": 3.5, "fund wallet": 3.5,
    "balance": 1.5, "bank transfer": 2.5, "transfer": 1, "card": 1.5, "credit card": 2, "debit card": 2,
    "verve": 2.5, "mastercard": 2.5, "visa": 1.5, "paystack": 3, "flutterwave": 3, "payfast": 3,
    "ussd": 2.5, "opay": 2.5, "palmpay": 2.5, "moniepoint": 2.5, "pay on delivery": 3,
    "payment on delivery": 3, "cash on delivery": 3, "installment": 3, "installments": 3,
    "pay small small": 3, "payment method": 3, "payment option": 3, "debit order": 3.5, "eft": 2.5,
    "awaiting payment": 3.5, "pending payment": 3.5, "unpaid": 3, "not reflect": 2.5, "reflect": 1.5,
    "subscription": 1, "subscription fee": 2.5, "renewal": 2, "auto renew": 2.5, "upgrade": 2,
    "price increase": 2, "fee": 1, "fees": 1, "credits": 1.5, "message credits": 2.5,
    "buy credits": 3, "bought credits": 3, "purchase": 1, "gift card": 2.5, "voucher": 1,
    "checkout": 1, "accountant": 1.5, "billed again": 3.5, "charged again": 3.5,
    "debited again": 3.5, "after cancel": 2, "after canceling": 2, "still charged": 3, "still billed": 3,
    "took money": 3, "took my money": 3, "taken from my": 3, "from my card": 2.5, "from my account": 1.5,
    "bank app": 1.5, "bank statement": 2.5, "overage": 3, "bank details": 3,
    "pay annually": 2.5, "pay monthly": 2.5, "annual": 0.75, "chargeback": 3.5, "charge back": 3.5,
    "dispute": 1.5, "payment link": 3, "pay now": 1.5, "card details": 2.5, "billing address": 2.5,
    "withdraw": 1, "withdrawal": 1, "three times": 1.5, "twice": 1.5,
    "price went up": 3, "went up": 1.5, "increased": 1, "subscription price": 2.5, "more than usual": 1.5,
    "vat": 2, "money": 0.5, "bank": 1, "full price": 2.5, "charged more": 3, "charged extra": 3,
    "extra charge": 3, "wrong price": 2.5, "price difference": 2.5, "not applied": 2, "discount not": 2,
}

SHIPPING_DELIVERY: dict[str, float] = {
    "delivery": 2, "deliver": 2, "delivered": 2, "courier": 3, "rider": 2.5, "dispatch rider": 3.5,
    "dispatch": 2, "waybill": 3.5, "tracking": 2.5, "tracking number": 3.5, "tracking code": 3.5,
     "in transit": 3, "transit": 2, "shipping": 2,
    "shipment": 2.5, "parcel": 2.5, "package": 2, "consignment": 2.5, "customs": 3, "duty": 1.5,
    "import duty": 3, "clearance": 1.5, "pickup station": 3.5, "pick up station": 3.5,
    "pickup point": 3.5, "pick up": 1.5, "pickup": 2, "collect": 1, "delivery address": 3.5,
    "shipping address": 3.5, "address": 1, "arrive": 2, "arrived": 2, "arrival": 2,
    "never received": 2.5, "not received": 2.5, "haven't received": 2.5, "received": 0.5,
    "yet to receive": 2.5, "still waiting": 1, "rescheduled": 2.5, "reschedule": 2.5, "logistics": 2.5,
    "hub": 1.5, "warehouse": 1.5, "dhl": 3, "fedex": 3, "gig logistics": 3, "gigl": 3, "aramex": 3,
    "kwik": 2, "sendbox": 3, "pudo": 3, "pargo": 3, "postnet": 3, "the courier guy": 3, "nobody came": 2.5,
    "no one came": 2.5, "nobody brought": 2.5, "no one brought": 2.5, "never brought": 2, "nothing came": 2.5,
    "nothing arrived": 2.5, "nothing reached": 2.5, "carton": 1, "showed up": 2, "show up": 2,
    "supposed to be delivered": 3.5,
    "missed delivery": 3.5, "delivery attempt": 3.5, "failed delivery": 3.5,
    "delivery fee": 3, "shipping fee": 3, "delivery date": 3, "how long": 0.5,
    "working days": 1, "on the way": 2, "out for delivery": 3.5, "doorstep": 2.5, "gate": 1,
    "goods": 1.5, "box": 1, "dropped off": 2.5, "drop off": 2.5, "how many days": 1.5, "eta": 3,
    "estimated delivery": 3.5, "delivery time": 3.5, "same day delivery": 3.5, "express delivery": 3.5,
    "home delivery": 3, "door delivery": 3, "interstate": 2.5, "tracking link": 3.5, "delivery man": 3.5,
    "delivery guy": 3.5, "delivery agent": 3.5, "driver": 2, "missing": 1, "incomplete": 1.5, "get here": 2,
    "reach me": 2, "get to me": 2, "how much is delivery": 3.5, "delivery cost": 3.5, "shipping cost": 3.5,
    "cost of delivery": 3.5, "lagos": 0.75, "abuja": 0.75, "port harcourt": 0.75, "ibadan": 0.75, "kano": 0.75,
    "enugu": 0.75, "benin": 0.75, "abeokuta": 0.75, "owerri": 0.75, "kaduna": 0.75, "ilorin": 0.75,
    "uyo": 0.75, "calabar": 0.75, "warri": 0.75, "onitsha": 0.75, "aba": 0.75, "lekki": 0.75, "ikeja": 0.75,
    "johannesburg": 0.75, "joburg": 0.75, "pretoria": 0.75, "cape town": 0.75, "durban": 0.75,
    "soweto": 0.75, "gqeberha": 0.75, "bloemfontein": 0.75,
}

RETURNS_REFUNDS: dict[str, float] = {
    "refund": 3, "refunded": 3, "refund request": 3.5, "money back": 3, "my money back": 3.5,
    "reimburse": 3, "reimbursement": 2, "return": 2.5, "return request": 3.5, "return policy": 3.5,
    "return window": 3.5, "send back": 2.5, "send it back": 3, "send them back": 3,
    "exchange": 2.5, "swap": 2, "replacement": 2.5, "replace": 2, "cancel": 3, "cancellation": 3,
    "cancel my subscription": 4, "cancel subscription": 4, "cancel the order": 3.5, "cancel my order": 3.5,
    "downgrade": 3.5, "lower plan": 2.5, "cheaper plan": 2.5, "unsubscribe": 2.5, "terminate": 2,
    "close our account": 2, "no longer want": 2.5, "no longer need": 2, "don't want it": 2,
    "wrong item": 2.5, "wrong size": 2.5, "wrong color": 2.5, "wrong product": 2.5, "damaged": 2,
    "broken": 1, "torn": 2, "defective": 2.5, "faulty": 2.5, "dead pixel": 2.5, "fake": 2,
    "counterfeit": 2.5, "not original": 2.5, "not as described": 3, "not as advertised": 3,
    "as advertised": 1, "stopped charging": 2, "entitled to": 1, "credit back": 2, "reversal": 1,
    "rejected": 0.5, "under review": 0.5, "store credit": 2.5, "warranty claim": 2.5,
    "i returned": 3.5, "we returned": 3.5, "sent back": 3, "sent it back": 3, "cancelation": 3, "refound": 3,
    "too small": 2.5, "too big": 2.5, "too tight": 2.5, "not fit": 2.5, "another size": 2.5,
    "different size": 2.5, "bigger one": 2.5, "smaller one": 2.5, "change it for": 2.5, "size": 1,
    "return label": 3.5, "leak": 1.5, "not renew": 3, "stop renewal": 3, "end my subscription": 4,
    "end our subscription": 4, "end our plan": 3.5, "end my plan": 3.5,
    "cracked": 2, "correct item": 2.5, "right item": 2.5, "instead of": 1, "arrange a collection": 2.5,
    "return my money": 3.5, "return result": 0, "return any result": 0, "return no result": 0,
    "return an error": 0, "return error": 0, "return empty": 0, "return nothing": 0, "return the wrong": 0,
    "give me my money": 3, "want my money": 2.5, "scratched": 2, "used item": 2,
}

TECHNICAL: dict[str, float] = {
    "error": 2.5, "bug": 2.5, "glitch": 2.5, "crash": 3, "freeze": 3, "frozen": 3, "hang": 1.5,
    "not load": 3, "not loading": 3, "fail to load": 3, "loading forever": 3, "spin": 1.5,
    "blank page": 3, "blank screen": 3, "white screen": 3, "down": 1.5, "site is down": 3.5,
    "outage": 3, "not work": 2, "stopped working": 2.5, "stop working": 2.5, "broken link": 3,
    "timed out": 2.5, "time out": 2.5, "timeout": 2.5, "slow": 1.5, "lag": 1.5,
    "something went wrong": 3, "greyed out": 3, "grayed out": 3, "cant click": 3, "unresponsive": 3,
    "not respond": 2, "not open": 2.5, "keeps failing": 1.5, "failed": 0.75,
    "rejected": 1.5, "not showing": 2, "not display": 2, "no results": 3, "not sending": 2.5,
    "failed to send": 3, "not going out": 3, "did not go out": 3, "grey tick": 3, "one tick": 3,
    "single tick": 3, "webhook": 3, "api": 1.5, "endpoint": 2, "integration": 1.5, "token": 1.5,
    "sdk": 2, "qr code": 2, "scan": 1.5, "sync": 2, "app": 1, "application": 0.75, "website": 1,
    "site": 1, "web page": 1, "page": 0.5, "browser": 2, "chrome": 2, "android": 1.5, "ios": 1.5,
    "iphone": 0.5, "screen": 0.75, "button": 1.5, "link": 0.75, "notification": 1.5, "alert": 0.5,
    "template": 1.5, "message": 0.5, "messages": 0.5, "delivery report": 3, "read receipt": 2.5,
    "captcha": 2.5, "search": 1.5, "keeps": 0.5, "cart": 0.75, "not receiving message": 3,
    "unauthorized": 0.5, "401": 1.5, "403": 1.5, "404": 2, "500": 1.5, "502": 2, "503": 2,
    "refresh": 1.5, "keeps refreshing": 3, "reload": 1.5, "install": 2.5, "uninstall": 2.5, "reinstall": 2.5,
    "update the app": 2, "latest version": 2, "version": 0.75, "not compatible": 2.5, "since the update": 2.5,
    "loop": 2, "stuck on loading": 3.5, "loading": 1.5, "cant upload": 2, "cant see": 1.5, "disappeared": 2,
    "connection": 1.5, "network error": 3.5, "server": 2, "ssl": 2.5, "dns": 2.5, "rate limit": 2.5,
    "throttled": 2.5, "429": 2, "json": 1.5, "payload": 2, "signature": 1.5, "callback": 2,
    "embedded signup": 2.5, "phone number id": 2.5, "waba": 2, "quality rating": 2, "inbox": 1,
    "cache": 2.5, "cookies": 2, "filter": 2, "sort by": 2, "failing with": 2.5, "fails with": 2.5,
    "failed with": 2.5, "recipient": 1.5, "pending review": 1.5, "broadcast": 1, "campaign": 1,
    "invisible": 2.5,
    # where a product is listed, not a fault: "is the TV on your site the 2025 model?"
    "on your site": 0, "on the site": 0, "on your website": 0, "on the website": 0, "on your app": 0,
    "on the app": 0, "in your app": 0, "in the app": 0,
    # a washing machine's loading door, a smaller plan: not "loading" or "down"
    "top load": 0, "front load": 0, "move down": 0, "step down": 0, "scale down": 0,
}

SELLER_SUPPORT: dict[str, float] = {
    "seller": 1.5, "the seller": 0, "this seller": 0, "that seller": 0, "a seller": 0.5,
    "from seller": 0, "from the seller": 0, "seller sent": 0, "vendor": 3, "the vendor": 0.5,
    "merchant": 3, "my store": 3, "my shop": 3, "store name": 3, "shop name": 3, "my listing": 3.5,
    "listing": 2.5, "listings": 2.5, "payout": 3.5, "payouts": 3.5, "commission": 3.5,
    "seller dashboard": 3.5, "seller center": 3.5, "seller hub": 3.5, "seller portal": 3.5,
    "seller account": 3.5, "vendor account": 3.5, "my seller": 3, "as a seller": 3.5, "as a vendor": 3.5,
    "become a seller": 3.5, "become a vendor": 3.5, "register as a seller": 4, "register as a vendor": 4,
    "new seller": 3, "sell on": 3, "sell my": 3, "sell our": 3, "want to sell": 3, "to sell": 1.5,
    "start selling": 3.5, "selling": 1.5, "i sell": 2.5, "we sell": 2,
    "my products": 2, "my product": 2, "upload products": 3, "upload product": 3, "product upload": 3,
    "bulk upload": 3, "inventory": 2.5, "stock level": 2.5, "sales": 1.5, "sold": 1.5, "buyer": 2,
    "a buyer": 2.5, "my buyer": 2.5, "the buyer": 2.5, "sku": 2.5, "catalogue": 1, "catalog": 1, "settlement": 2.5,
    "earnings": 3, "my earnings": 3.5, "paid out": 3, "withdraw": 1, "a customer left": 2.5,
    "my customer": 1.5, "fake review": 2.5, "remove the review": 2.5, "storefront": 3, "seller fee": 3.5,
    "listing fee": 3.5, "delist": 3, "taken down": 1.5, "fulfil": 2.5, "fulfill": 2.5, "fulfilment": 2.5,
    "fulfillment": 2.5, "restock": 2.5, "vendors": 3, "upload": 1, "csv": 1.5,
    "seller wallet": 3.5, "vendor wallet": 3.5, "store wallet": 3.5, "shop wallet": 3.5, "merchant wallet": 3.5,
    "my sales": 3, "sales money": 3,
}

GENERAL: dict[str, float] = {
    "hours": 1, "opening hours": 3, "working hours": 3, "support hours": 3, "open on": 2,
    "weekend": 1, "weekends": 1, "office": 1.5, "your office": 2, "located": 2.5, "location": 1.5,
    "physical store": 3.5,
    "physical shop": 3.5, "branch": 1.5, "showroom": 3, "walk in": 2, "visit": 1, "meet the team": 3,
    "hiring": 3, "job": 2.5, "jobs": 2.5, "vacancy": 3, "career": 3, "internship": 3, "apply for": 1.5,
    "partnership": 3, "partner": 2, "collaborate": 2.5, "collaboration": 2.5, "sponsorship": 3,
    "referral": 3, "refer a friend": 3, "affiliate": 3, "ambassador": 3, "program": 1, "loyalty": 2,
    "points": 1, "promo": 1, "promotion": 1, "flash sale": 2.5, "discount": 1.5, "deal": 1,
    "black friday": 3, "warranty": 2.5, "guarantee": 1.5, "brand new": 2.5, "uk used": 3, "used": 0.5,
    "refurbished": 2, "in stock": 3, "out of stock": 2.5, "available": 1.5, "availability": 2,
    "price": 1.5, "how much": 1, "cost": 1, "specs": 2.5, "specification": 2.5, "compatible": 2,
    "recommend": 2, "difference between": 3, "compare": 2, "which is better": 2.5, "feature": 1.5,
    "how to": 1, "how do i": 0.75, "how can i": 0.5, "can i use": 1.5, "is it possible to": 0.5,
    "integrate with": 2.5, "integrate": 2, "limit": 1.5, "how many": 1, "hello": 0.5, "hi": 0.5,
    "good morning": 0.75, "good afternoon": 0.75, "good evening": 0.75, "thanks": 0.5, "thank you": 0.5,
    "feedback": 2, "suggestion": 2, "complaint": 1, "wishlist": 3, "wish list": 3, "save items": 2,
    "newsletter": 2.5, "privacy": 2, "popia": 2.5, "ndpr": 2.5, "terms and conditions": 2, "policy": 0.5,
    "plans": 0.5, "pricing": 1.5, "demo": 2.5, "free trial": 2, "trial": 1, "quick reply": 1.5,
    "broadcast list": 1.5, "contacts": 0.5, "customer service": 0.5, "customer care": 0.5,
    "saturday": 0.75, "sunday": 0.75, "public holiday": 2, "discounts for": 2, "who can i speak to": 1,
    "press": 1.5, "media": 1.5, "marketing": 1.5, "advertise": 2.5, "interview": 2, "research": 1.5,
    "review": 0.5, "reviews": 0.5, "open": 0.5, "close": 0.5, "original": 1.5, "genuine": 1.5, "authentic": 1.5,
}

CATEGORY_LEXICONS: dict[str, dict[str, float]] = {
    "account_access": ACCOUNT_ACCESS,
    "order_status": ORDER_STATUS,
    "payment_billing": PAYMENT_BILLING,
    "shipping_delivery": SHIPPING_DELIVERY,
    "returns_refunds": RETURNS_REFUNDS,
    "technical": TECHNICAL,
    "seller_support": SELLER_SUPPORT,
    "general": GENERAL,
}

# Context redirects: (from category, phrases, to category, context words needed, context words that veto).
# "deliver"/"arrive" words describe messages, not parcels, in messaging talk without goods; fault words
# describe a defective product (a return or exchange), not a software fault, in goods talk without software.
_DIGITAL = frozenset({"app", "website", "site", "page", "api", "webhook", "dashboard", "account", "login",
                      "template", "message", "messages", "browser", "checkout", "link", "button", "inbox",
                      "platform", "system", "server", "integration", "filter", "search", "cart", "wishlist",
                      "notification", "otp", "password", "payment"})
_PRODUCTS = frozenset({"phone", "laptop", "tablet", "tv", "television", "fridge", "blender", "charger",
                       "earbuds", "earphones", "headphones", "headset", "speaker", "watch", "shoes", "dress",
                       "shirt", "bag", "item", "product", "iron", "fan", "generator", "microwave", "kettle",
                       "cooker", "airpods", "powerbank", "battery", "printer", "camera", "console", "controller",
                       "keyboard", "mouse", "monitor", "router", "freezer", "machine", "device", "gadget"})
_TRUST = frozenset({"verified", "verify", "vetted", "screened", "genuine", "authentic", "legit", "legitimate",
                    "trust", "trusted", "trustworthy", "checks"})
REDIRECTS: list[tuple[str, frozenset[str], str, frozenset[str], frozenset[str]]] = [
    ("shipping_delivery",
     frozenset({"delivery", "deliver", "delivered", "arrive", "arrived", "arrival", "not received",
                "never received", "not receive", "haven't received", "yet to receive", "nothing came",
                "nothing arrived", "nothing reached"}),
     "technical",
     frozenset({"message", "messages", "sms", "template", "webhook", "whatsapp", "broadcast", "campaign",
                "notification", "email", "mail", "api", "callback", "otp", "code"}),
     frozenset({"parcel", "package", "courier", "rider", "item", "order", "waybill", "box", "goods", "product",
                "phone", "laptop", "shipment"})),
    ("order_status",
     frozenset({"pending", "still pending", "stuck", "processing", "still processing", "status", "approved",
                "not confirmed", "current status"}),
     "technical",
     frozenset({"template", "webhook", "message", "messages", "api", "campaign", "broadcast", "number",
                "integration", "sms"}),
     frozenset({"order", "item", "parcel", "package", "purchase", "goods", "product", "delivery"})),
    ("technical",
     frozenset({"not work", "stopped working", "stop working", "freeze", "crash", "not open", "hang",
                "keeps failing", "failed", "fail", "screen"}),
     "returns_refunds", _PRODUCTS, _DIGITAL),
    # a shopper asking, before buying, whether the platform's sellers are genuine: the sellers are a product
    # question, not a vendor writing about their store (nothing of the vendor's own: store, payout, listing ...)
    ("seller_support",
     frozenset({"seller", "vendor", "vendors", "selling", "to sell", "sell on"}),
     "general", _TRUST,
     frozenset({"payout", "listing", "listings", "commission", "store", "shop", "storefront", "dashboard",
                "customer", "customers", "buyer", "buyers", "earnings", "sold", "order", "orders", "stock",
                "wallet", "account", "registration", "register"})),
    # ... and "fakes" feared, not received: nothing to return yet (nor a seller's listing called counterfeit)
    ("returns_refunds",
     frozenset({"fake", "counterfeit", "not original"}),
     "general", _TRUST | frozenset({"worried", "worry", "scared", "afraid", "before", "ahead"}),
     frozenset({"received", "receive", "got", "arrived", "delivered", "bought", "return", "returned", "refund",
                "sent", "came", "ordered", "purchased", "money", "exchange", "replace", "replacement", "listing",
                "listings", "store", "shop", "storefront", "payout", "commission", "stock", "sold", "invoices"})),
]

# what may not follow "do you have/offer ..." in a capability question, and "do you deliver/ship ..." (see there)
_NOT_A_WAY_TO_PAY = (r"(?!\s+(?:an?\s+|any\s+)?(?:installments?|instalments?|payment\s+(?:plans?|options?|methods?)|"
                     r"pay\s+(?:later|on\s+delivery|small)|cash\s+on\s+delivery|buy\s+now)\b)")
_NOT_A_TIME = (r"(?!\s+(?:on|at|during|over|before|after|by|same|today|tomorrow|tonight|early|late|weekends?|sundays?|"
               r"saturdays?|public|holidays?)\b)")
# a place delivered to that is the customer's own address (a delivery arrangement, not whether you deliver there)
_NOT_AN_ADDRESS = (r"(?!\s+(?:(?:my|our|the|your|a|this|that|his|her)\s+)?(?:\w+\s+)?(?:office|house|home|address|door|"
                   r"doorstep|gate|work|workplace|flat|apartment|hostel|neighbou?r'?s?)\b)")

# Patterns that a phrase list cannot express: entities and gapped constructions. Each runs on normalised text
# only when one of its trigger words (plain lower-case tokens) is present. (category, weight, label, regex, triggers)
_ITEM = r"(?:[a-z0-9]+ ){0,2}"
PATTERN_CUES: list[tuple[str, float, str, str, tuple[str, ...]]] = [
    ("returns_refunds", 1.0, "cancel <order/subscription>",
     r"\bcancel\w*\s+(?:my|our|the|this|that)?\s*(?:order|subscription|plan|membership)",
     ("cancel", "canceled", "canceling")),
    ("returns_refunds", 3.0, "stop a subscription/renewal",
     r"\b(?:stop|end|turn off|disable|switch off|cancel)\s+(?:the\s+|my\s+|our\s+)?(?:auto[- ]?renew\w*|"
     r"subscription|membership|recurring\s+\w+|debit order)", ("stop", "end", "turn", "disable", "switch", "cancel")),
    ("account_access", 3.0, "remove someone from the account",
     r"\b(?:remove|delete|kick)\s+(?![^.?!]{0,50}\b(?:card|cards|money|bank|address|item|items|product|products|"
     r"listing|listings|photo|contact|contacts)\b)(?:\w+\s+){0,7}(?:from|off|out of)\s+(?:our|my|the)\s+(?:\w+\s+)?"
     r"(?:account|workspace|team|dashboard|users?|user list|members|portal)\b"
     r"|\btake\s+(?:\w+\s+){0,3}off\s+(?:our|my|the)\s+(?:\w+\s+)?(?:account|workspace|team|dashboard|users?|"
     r"user list|members|portal)\b", ("remove", "delete", "kick", "take")),
    ("shipping_delivery", 2.0, "when will I get it",
     r"\bwhen\s+will\s+(?:i|we)\s+(?:get|receive)\b|\bwhich\s+day\s+will\b|\bwhen\s+will\s+(?:it|they)\s+"
     r"(?:come|arrive|get|reach)\b", ("when", "which")),
    ("seller_support", 3.0, "mark order as shipped", r"\bmark\s+(?:the\s+|an\s+|this\s+|my\s+)?orders?\s+as\b",
     ("mark",)),
    ("general", 3.0, "opening times", r"\bwhat\s+time\s+(?:do|does|are)\s+(?:you|your|the)\b|\b(?:opening|closing)"
     r"\s+(?:time|hour)s?\b", ("what", "opening", "closing")),
    ("account_access", 2.5, "change account detail",
     r"\b(?:change|update|edit|correct)\s+(?:the\s+|my\s+|our\s+)?(?:e-?mail(?: address)?|phone(?: number)?|"
     r"username|user name|password|login)\b(?!\s+(?:template|campaign|marketing|list))", ("change", "update", "edit",
                                                                                        "correct")),
    ("order_status", 2.5, "modify an order",
     r"\b(?:modify|change|edit|update|amend)\b[^.?!]{0,40}\b(?:on|in|of|for)\s+(?:an|my|the|this|our)\s+order\b",
     ("modify", "change", "edit", "update", "amend")),
    ("returns_refunds", 3.0, "received the wrong item",
     r"\b(?:got|received|sent|delivered|brought|gave)\s+(?:me\s+|us\s+)?(?:the\s+|a\s+|an\s+)?wrong\b",
     ("got", "received", "sent", "delivered", "brought", "gave")),
    ("general", 2.0, "product spec", r"\b\d+\s?(?:gb|tb|mah|inch|inches|mp|hz)\b", ()),
    ("order_status", 1.0, "order reference",
     r"\b(?:alk|iz|izn|ord|ord?r)-?\d{3,}\b|#\d{4,}\b|\border\s*(?:no\.?|number|id|ref)\s*[:#]?\s*[a-z]*-?\d{3,}",
     ()),
    ("payment_billing", 0.75, "amount",
     r"(?:₦|\bngn\s?|\bn(?=\d)|\bzar\s?|\br(?=\d)|\$)\d[\d,]*(?:\.\d\d)?k?\b|\b\d[\d,.]*\s?(?:naira|rand)\b", ()),
    ("technical", 3.0, "error code",
     r"\b(?:error|err|code)\s*(?:code\s*)?[:#]?\s*\d{3,6}\b"
     r"|\b[45]\d\d\s+(?:error|bad gateway|not found|unauthori[sz]ed|forbidden|internal|service unavailable)",
     ("error", "err", "code", "gateway", "found", "unauthorized", "unauthorised", "forbidden", "internal",
      "service")),
    ("order_status", 2.5, "where is my <item>",
     r"\bwhere(?:'s| is| are)\s+(?:my|our)\s+(?!refund|money|parcel|package|rider|delivery|shipment|payout)",
     ("where",)),
    ("shipping_delivery", 2.0, "where is my <parcel>",
     r"\bwhere(?:'s| is| are)\s+(?:my|our|the)\s+(?:parcel|package|rider|delivery|shipment|courier)", ("where",)),
    ("returns_refunds", 2.0, "where is my refund",
     r"\bwhere(?:'s| is| are)\s+(?:my|our)\s+(?:refund|money)", ("where",)),
    ("order_status", 3.0, "order was cancelled (status question)",
     r"\border\s+(?:was|has\s+been|got|is)\s+(?:auto(?:matically)?\s+)?cancel+ed\b"
     r"|\b(?:why|how come)\s+(?:was|has|did|is)\s+(?:my|our|the)\s+order\s+(?:been\s+|get\s+)?cancel",
     ("was", "been", "got", "is")),
    ("account_access", 2.5, "account (not) restored/blocked",
     r"(?<!seller )(?<!vendor )(?<!merchant )(?<!store )"  # a seller's account state is seller support
     r"\baccount\s+(?:is|was|has\s+been|got|gets|be|been)?\s*(?:not\s+|still\s+|now\s+)?(?:restored|reactivated|"
     r"unblocked|unlocked|suspended|blocked|deactivated|disabled|locked|frozen|restricted)\b", ("account",)),
    # (a way to pay offered is a payment-method question, payment_billing; delivering on a day or at a time is a
    # delivery question, shipping_delivery: the label conventions of 2026-11-29)
    ("general", 2.5, "capability question",
     r"\b(?:do|does)\s+(?:you(?:\s+guys)?|u(?:\s+guys)?|una|your\s+\w+|conek|izonie|alkonect|it|the\s+\w+(?:\s+\w+)?)\s+"
     r"(?:(?:have|offer|support|allow)\b" + _NOT_A_WAY_TO_PAY + r"|(?:deliver|ship)\b" + _NOT_A_TIME +
     r"|(?:sell|stock|carry|provide|work with|operate|integrate|come with)\b)",
     ("do", "does")),
    # a question about using the product (where a setting is, whether it can do X) is general, not a fault
    ("general", 2.5, "usage question",
     r"(?:\bwhere\s+(?:do|can|would|should)\s+(?:i|we)\s+(?:find|see|get|check|set|turn|switch)\b"
     r"|\bwhere\s+(?:is|are)\s+(?:the|that|this)\s+(?:\w+\s+)?(?:option|setting|settings|button|section|tab|menu|"
     r"report|reports)\b"
     r"|\bis\s+there\s+(?:an?\s+)?(?:option|way|setting|feature)\s+to\b|\bis\s+it\s+possible\s+to\s+(?:schedule|set|use|create|export|import|customi[sz]e|connect|see)\b"
     r"|\b(?:can|could)\s+(?:i|we|our\s+\w+)\s+(?:set|schedule|use|create|export|import|customi[sz]e|connect)\b)"
     r"(?![^.?!]*\b(?:error\w*|fail\w*|crash\w*|broken|not\s+work\w*|stopped|down|stuck)\b)",
     ("where", "is", "can", "could")),
    ("payment_billing", 3.0, "charged N times",
     r"\b(?:charg|debit|deduct|bill|took|take)\w*\b[^.?!]{0,40}\b(?:twice|two times|2 times|2x|three times|"
     r"3 times|double)\b", ("charge", "charged", "charging", "debit", "debited", "deducted", "deduct", "billed",
                           "bill", "took", "take")),
    ("technical", 3.0, "returns an error/results",
     r"\breturn(?:s|ed|ing)?\s+(?:an?\s+|any\s+|no\s+|the\s+|empty\s+|blank\s+)?(?:[45]\d\d\b|results?|errors?|"
     r"status|responses?|nothing|null|exceptions?)", ("return", "returns", "returned", "returning")),
    ("technical", 3.0, "job progress stuck",
     r"\b(?:stuck|frozen|hanging|paused)\s+(?:at|on)\s+\d+\s?%", ("stuck", "frozen", "hanging", "paused")),
    ("returns_refunds", 3.0, "return logistics",
     r"\b(?:drop(?:\s+off)?|pick\s?up|collect|ship|send|post|courier)\w*\s+(?:\w+\s+){0,3}"
     r"(?:a\s+|the\s+|my\s+|this\s+)?(?:return|exchange)(?:ed)?\b(?!\s+(?:to\s+sender|date))",
     ("drop", "pick", "pickup", "collect", "ship", "send", "post", "courier")),
    ("payment_billing", 2.5, "discount not honoured",
     r"\b(?:promo|coupon|discount|voucher)\w*(?:\s+code)?\b[^.?!]{0,40}\b(?:charged|billed|paid|deducted|"
     r"not\s+(?:applied|work|deducted|reflect))", ("promo", "coupon", "discount", "voucher")),
    ("general", 1.5, "how-to usage question",
     r"\bhow\s+(?:do|can|should|would)\s+(?:i|we|you)\s+(?:create|set\s?up|use|schedule|design|build|customi[sz]e|"
     r"get started|make a|import|export)\b", ("how",)),
    ("general", 2.0, "are you hiring/open", r"\bare\s+you\s+(?:hiring|open|recruiting|located)\b", ("are",)),
    ("general", 1.5, "price range", r"\b(?:under|below|less than|budget of)\s*(?:₦|n|r)?\s?\d[\d,]*k?\b",
     ("under", "below", "less", "budget")),
    ("payment_billing", 2.0, "paid but ...",
     r"\b(?:i|we)\s+(?:have\s+)?(?:paid|made (?:the|a|my) payment|transferred)\b[^.?!]{0,60}\b(?:but|yet|still)\b",
     ("paid", "payment", "transferred")),
    ("returns_refunds", 3.5, "change to a lower plan",
     r"\b(?:switch|move|change|go|drop|step|scale|switching|moving|changing|going|dropping|stepping|scaling)\s+"
     r"(?:back\s+|down\s+)?(?:from\s+[^.?!]{0,30}\s+)?(?:to|onto)\s+(?:a|the|our)?\s*"
     r"(?:lower|cheaper|smaller|smallest|basic|starter|free|lite)\b",
     ("switch", "move", "change", "go", "drop", "step", "scale", "switching", "moving", "changing", "going",
      "dropping", "stepping", "scaling")),
    ("technical", 2.0, "message delivery failure",
     r"\bmessages?\b[^.?!]{0,40}\b(?:not|never|aren't|isn't|weren't|wasn't|fail(?:ed|ing)? to be)\s+deliver",
     ("message", "messages")),
    # "delivered" on the app or the tracking, and nothing came: a delivery problem, not an order-status question.
    # What says so is the app, the tracking or the order, not a message's status ("messages show delivered").
    ("shipping_delivery", 3.0, "marked delivered, nothing came",
     r"(?<!message )(?<!messages )\b(?:app|tracking|status|order|page|site|website|system|it|courier|rider|driver)"
     r"\s+(?:\w+\s+)?(?:says?|said|saying|shows?|showed|showing|marked|reads?|updated)\b[^.?!]{0,25}\bdelivered\b"
     r"[^.?!]{0,50}\b(?:but|yet|though|however)\b", ("delivered",)),
    # part of a delivery missing from the box: the delivery was short, whatever was ordered
    ("shipping_delivery", 3.0, "short delivery",
     r"(?:\bmissing|\bnot|n't|\bnever)\s+(?:from|in|inside)\s+(?:the|my|our)\s+(?:box|parcel|package|carton|delivery)\b"
     r"|\b(?:only|just)\s+(?:one|two|three|four|\d+|the\s+\w+)\b[^.?!]{0,40}\b(?:was|were|came|arrived)\s+"
     r"in(?:side)?\s+(?:the|my)\s+(?:box|parcel|package|carton|delivery)\b"
     r"|\b(?:box|parcel|package|carton|delivery)\s+(?:came|arrived|was|is)\s+(?:short|incomplete|empty)\b",
     ("missing", "not", "never", "only", "just", "box", "parcel", "package", "carton", "delivery")),
    # "I don pay ... una never send am": paid, and the goods were not sent: where the order is, not the payment
    ("order_status", 3.0, "paid, not sent yet",
     r"\b(?:una|you(?:\s+(?:guys|people))?|u|they|dem|them)\s+(?:still\s+)?(?:never|neva|haven'?t|have\s+not|"
     r"didn'?t|did\s+not|no)\s+(?:yet\s+)?(?:send|sent|ship|shipped|dispatch|dispatched|process|processed)\b"
     r"(?!\s+(?:the\s+|my\s+|me\s+|us\s+|our\s+|any\s+|a\s+)?(?:otp|code|invoice|receipt|link|e-?mail|mail|sms|"
     r"messages?|pin|password|tracking|refund|money|payout|reply|response|statement|payment|transfer|transaction|card|"
     r"return|exchange|cancel\w*|request|application|verification|kyc|withdrawal|template|campaign|broadcast|"
     r"report|documents?|details|update|information|info)\b)",
     ("send", "sent", "ship", "shipped", "dispatch", "dispatched", "process", "processed")),
]


# Intent frames: what the customer asks to be done, as a requested action and its object (or a who-is-writing
# clue and what they say about it), each tied to the category TENANTS.md gives that request. A frame is a
# sequence of slots (regex alternatives, matched on normalised text); up to `gap` filler words may sit between
# two slots (pronouns, names, plan names, references: "switch us from the Growth plan to the Basic plan"), but
# not words in `skip` and never sentence punctuation. A frame runs only when one of its trigger words is in the
# text; `remedy` frames are remedy requests (categorize's rule 2). They compile into PATTERN_CUES below.
class IntentFrame(NamedTuple):
    """One requested action with its object, the category it belongs to and how it is matched."""

    category: str
    weight: float
    label: str
    slots: tuple[str, ...]
    gap: int
    skip: str
    triggers: tuple[str, ...]
    remedy: bool


def _alts(*options: str) -> str:
    """A non-capturing alternation of regex options."""
    return "(?:" + "|".join(options) + ")"


def frame_regex(frame: IntentFrame) -> str:
    """The frame's slots joined by gaps of at most `gap` filler words (none from `skip`)."""
    word = r"(?:\s+(?!" + frame.skip + r"\b)[\w'-]+)" if frame.skip else r"(?:\s+[\w'-]+)"
    filler = word + "{0," + str(frame.gap) + r"}\s+"
    return filler.join(r"\b" + _alts(slot) + r"\b" for slot in frame.slots)


_ONLY = "(?!"  # a `skip` of _ONLY + "(?:a|b)\b)[\w'-]+" lets only the words a, b fill the gap
_PLAN_WORD = r"(?:plan|tier|package|version|subscription|bundle)"
_LOW_PLAN = r"(?:lower|cheaper|smaller|smallest|basic|starter|free|lite|entry|previous|old|original|standard)"
_WHO_BUYS = r"(?:customers?|buyers?|clients?|people|shoppers|someone|somebody)"
_SYSTEM = (r"(?:bot|chatbot|chat\s?bot|flow|flows|automation|automations|auto-?reply|auto-?replies|"
           r"auto-?responder|webhook|webhooks|integration|api|app|site|website|widget|inbox|dashboard|template|"
           r"templates|button|form|page|system|platform|sync|keyword|keywords|menu|campaign|broadcast|scheduler)")
_DUTY = (r"(?:reply|replying|replies|respond|responding|responds|answer|answering|trigger|triggering|triggers|"
         r"fire|firing|sync|syncing|load|loading|update|updating|send|sending|open|opening|connect|connecting|"
         r"work|working|run|running|show|showing|go\s+out|going\s+out)")
_NOT_DOING = r"(?:stopped|stops|has\s+stopped|have\s+stopped|no\s+longer|not|never|won't|isn't|aren't|don't|doesn't|didn't|keeps?\s+failing\s+to)"

INTENT_FRAMES: list[IntentFrame] = [
    # cancelling an order or subscription, whatever the verb: "stop order ALK-1", "call off the order",
    # "don't ship my order" (a question why it was cancelled is order_status: past tense is not a request)
    IntentFrame("returns_refunds", 3.0, "request: stop an order/subscription",
                (r"(?<!why )(?<!did you )(?<!who )(?:cancel|cancell?ing|stop|halt|abort|void|call\s+off|"
                 r"(?:don't|do\s+not|dont|no)\s+(?:send|ship|dispatch|deliver|process))",
                 r"(?:order|orders|purchase|subscription|membership|renewal)(?!\s+(?:updates?|status|page|history|"
                 r"confirmation|notifications?|emails?|messages?|sms))"),
                3, r"(?:debit|sending|send|receiving|getting|any|all|these|those|the\s+updates?)",
                ("cancel", "canceling", "stop", "halt", "abort", "void", "call", "not", "no"), True),
    # moving to a smaller plan, with or without pronouns and plan names between: "switch us from Growth to Basic"
    IntentFrame("returns_refunds", 3.5, "request: move to a lower plan",
                (r"(?:switch|switching|move|moving|change|changing|put|take|drop|dropping|bring|downgrade|"
                 r"downgrading|revert|go|going|step|scale)",
                 r"(?:back\s+|down\s+|over\s+)?(?:to|onto|on)\s+(?:the\s+|a\s+|our\s+|my\s+)?" + _LOW_PLAN),
                6, r"(?:messages?|chats?|contacts?|number|numbers|inbox|page|screen|app)",
                ("switch", "switching", "move", "moving", "change", "changing", "put", "take", "drop", "dropping",
                 "bring", "downgrade", "downgrading", "revert", "go", "going", "step", "scale"), True),
    # undoing a plan change: "put us back on Starter", "take our account back to the old plan"
    IntentFrame("returns_refunds", 3.0, "request: put us back on a plan",
                (r"(?:put|move|switch|take|change|set|return|revert|bring)",
                 r"(?:us|me|our\s+(?:account|plan|subscription|workspace)|the\s+(?:account|plan|subscription))"
                 r"\s+back\s+(?:on|to|onto)\b(?!\s+(?:the\s+)?(?:page|screen|dashboard|inbox|home|chat|app|site|"
                 r"website|queue|line|list|menu|start)\b)"),
                0, "", ("put", "move", "switch", "take", "change", "set", "return", "revert", "bring"), True),
    # money asked back in other words: "credited back", "pay us back", "reverse the difference", "credit us"
    IntentFrame("returns_refunds", 3.0, "request: money back",
                (r"(?:credit|credited|refund|refunded|reimburse|reimbursed|pay|paid|give|gave|put|transfer)",
                 r"back\b(?!\s+(?:on|onto|online|up|in|access|control|to\s+(?:me|us)\s+(?:on|with|about)))"),
                4, _ONLY + r"(?:us|me|it|them|that|this|those|these|the|our|my|money|amount|fee|fees|days|day|"
                   r"subscription|difference|balance|charge|charges|payment|funds|period|week|month)\b)[\w'-]+",
                ("credit", "credited", "refund", "refunded", "reimburse", "reimbursed", "pay", "paid", "give", "gave",
                 "put", "transfer"), True),
    # (reversing "the extra" someone took is a billing fault: the charge was wrong, not the customer's plan)
    IntentFrame("returns_refunds", 3.0, "request: reverse the difference",
                (r"(?:reverse|reversed|undo|refund|return)",
                 r"(?:difference|upgrade|pro-?rata|prorated|unused|rest|remainder|remaining|what's\s+left|"
                 r"what\s+is\s+left)"),
                2, "", ("reverse", "reversed", "undo", "refund", "return"), True),
    # "end our Conek subscription", "terminate the contract", "discontinue my monthly package": the other verbs
    # of stopping a subscription, with the tenant's or the plan's name between ("the end of the plan" is not one)
    IntentFrame("returns_refunds", 3.5, "request: end a subscription",
                (r"(?<!the )(?<!an )(?:end|ending|terminate|terminating|discontinue|discontinuing)",
                 r"(?:subscription|subscriptions|membership|contract|plan|package|renewal)\b(?!\s+(?:period|term|date))"),
                3, r"(?:of|in|at|by|before|after|until|when|if|on)",
                ("end", "ending", "terminate", "terminating", "discontinue", "discontinuing"), True),
    # why the customer asks: not to be billed again ("... so we aren't billed for April", "before we get charged
    # again") is the purpose of a cancellation, not a billing fault
    IntentFrame("returns_refunds", 1.5, "purpose: not to be billed again",
                (r"(?:so|so\s+that|to\s+avoid|before)\s+(?:we|i)\s+(?:(?:aren't|are\s+not|am\s+not|i'm\s+not|"
                 r"we're\s+not|don't|do\s+not|won't|will\s+not)\s+(?:get\s+|be\s+)?|(?:are|get|am)\s+)"
                 r"(?:billed|charged|debited|invoiced)\b",),
                0, "", ("so", "avoid", "before"), False),
    # part of an order called off, the rest to go ahead: "take the second pair off my order", "remove the case
    # from order ALK-1", asked or requested ("can I remove one item from my order?": the label convention of
    # 2026-11-29); a fee, a discount or an address taken off an order is not a cancellation
    IntentFrame("returns_refunds", 3.0, "request: take an item off the order",
                (r"(?:remove|removing|take|taking|drop|dropping|delete|deleting|comot|exclude|excluding)",
                 r"(?:off|from|out\s+of)\s+(?:(?:my|our|the|this|that)\s+)?(?:\w+\s+)?(?:order|purchase)\b"
                 r"(?!\s+(?:page|history|status|updates?|list|confirmation|notifications?|e-?mails?|messages?|sms))"),
                5, r"(?:fee|fees|charge|charges|discount|discounts|coupon|code|voucher|address|number|card|email|"
                   r"name|me|us|promo)",
                ("remove", "removing", "take", "taking", "drop", "dropping", "delete", "deleting", "comot", "exclude",
                 "excluding"), True),
    # the customer's own wrong choice of plan, to be undone: "we only meant to sign up monthly", "signed up for the
    # wrong plan", "the annual package by mistake" (a plan the tenant billed wrongly stays payment_billing)
    IntentFrame("returns_refunds", 3.0, "request: undo the plan we chose by mistake",
                (r"(?:meant|intended|supposed|planned|wanted)\s+to\s+(?:sign\s+up|subscribe|pay|be|go|stay|take|get)"
                 r"\s+(?:for\s+|on\s+)?(?:a\s+|the\s+)?(?:monthly|month-to-month|month|starter|basic|lite|free|"
                 r"smaller|cheaper)"
                 r"|(?:signed\s+up|subscribed|chose|picked|selected|went)\s+(?:for\s+|to\s+|on\s+)?the\s+wrong\s+"
                 r"(?:plan|package|tier|subscription|billing)"
                 r"|(?:annual|yearly|year|pro|business|bigger|higher)\s+(?:plan\s+|package\s+|tier\s+|billing\s+|"
                 r"subscription\s+|option\s+)?(?:by\s+mistake|by\s+accident|accidentally)",),
                0, "", ("meant", "intended", "supposed", "planned", "wanted", "wrong", "mistake", "accident",
                        "accidentally"), True),
    IntentFrame("returns_refunds", 2.5, "request: credit us",
                (r"credit", r"(?:us|me|our\s+account|my\s+account|our\s+workspace)\s+(?:for|with)"),
                0, "", ("credit",), True),
    # granting or changing someone's access: "give our intern access to the dashboard", "add Zola as a user"
    IntentFrame("account_access", 3.5, "request: give someone access",
                (r"(?:give|giving|grant|granting|add|adding|invite|inviting|create|set\s+up|make)",
                 r"(?:access|permissions?|rights|role|roles|login|log-in|logins|seat|admin|administrator|viewer|"
                 r"view-only|read-only|user|users|agent\s+account|user\s+account)\b(?!\s+(?:guide|manual|"
                 r"experience|interface|reviews?|feedback))"),
                5, r"(?:discounts?|money|credits?|refunds?|codes?|links?|messages?|notifications?|feedback|reviews?|"
                   r"cards?|products?|items?|listings?|funds|balance|payment)",
                ("give", "giving", "grant", "granting", "add", "adding", "invite", "inviting", "create", "set",
                 "make"), False),
    IntentFrame("account_access", 2.5, "limited-access role",
                (r"(?:view|read|viewing|reading)(?:-|\s+)?only|only\s+(?:to|be\s+able\s+to|allowed\s+to)\s+"
                 r"(?:view|see|read)|(?:just|only)\s+(?:view|see)\s+(?:the\s+)?(?:reports?|stats|analytics|chats)",),
                0, "", ("view", "read", "viewing", "reading", "only", "just"), False),
    # deleting the account or the personal data held: a request about the account itself
    IntentFrame("account_access", 3.5, "request: delete my account/data",
                (r"(?:delete|deleting|erase|erasing|remove|removing|deactivate|deactivating|wipe|wiping)",
                 r"(?:account|profile|personal\s+(?:data|details|information|info)|(?:my|our)\s+data)\b"),
                2, _ONLY + r"(?:my|our|the|this|that|alkonect|izonie|conek|entire|whole|old|second|duplicate|extra|"
                   r"customer|user|shopping)\b)[\w'-]+",
                ("delete", "deleting", "erase", "erasing", "remove", "removing", "deactivate", "deactivating", "wipe",
                 "wiping"), False),
    # who is writing: a seller's goods bought by customers, a seller's wallet or sales money
    IntentFrame("seller_support", 3.5, "seller: customers bought my goods",
                (_WHO_BUYS, r"(?:paid|pay|bought|buy|buys|ordered|order|orders|purchased|purchase)",
                 r"(?:my|our)\s+(?:\w+\s+)?(?:items?|products?|goods|stock|listings?|wares|store|shop|"
                 r"dresses|shoes|clothes|perfumes?|bags?|phones?)"),
                3, "", ("customers", "customer", "buyers", "buyer", "clients", "client", "people", "shoppers",
                        "someone", "somebody"), False),
    # changing a store's settings: "add a second warehouse address to my store"
    IntentFrame("seller_support", 3.5, "seller: change my store settings",
                (r"(?:add|adding|change|changing|update|updating|set|setting|edit|editing|remove|removing|rename|"
                 r"configure|move|switch|open|close|list|upload)",
                 r"(?:to|on|of|for|in|from)\s+(?:my|our)\s+(?:\w+\s+)?(?:store|shop|storefront|"
                 r"(?:seller|vendor|merchant)\s+(?:profile|account|page|dashboard))\b"),
                6, r"(?:order|orders|parcel|package|money|refund|payment|card)",
                ("add", "adding", "change", "changing", "update", "updating", "set", "setting", "edit", "editing",
                 "remove", "removing", "rename", "configure", "move", "switch", "open", "close", "list", "upload"),
                False),
    # a system that stopped doing its job: "our chatbot flow stopped replying", "the webhook no longer fires"
    IntentFrame("technical", 3.0, "fault: a system stopped doing its job",
                (_SYSTEM, _NOT_DOING + r"(?:\s+(?:be\s+)?\w+)?\s+" + _DUTY),
                3, r"(?:customer|customers|agent|agents|team|support|staff|rider|courier|seller|you|they|una)",
                ("bot", "chatbot", "flow", "flows", "automation", "automations", "auto", "autoreply", "webhook",
                 "webhooks", "integration", "api", "app", "site", "website", "widget", "inbox", "dashboard",
                 "template", "templates", "button", "form", "page", "system", "platform", "sync", "keyword",
                 "keywords", "menu", "campaign", "broadcast", "scheduler"), False),
    # whether an order exists after paying: "did the order go through?", "was my order placed?", "my order don
    # enter?" (the order is the question, whatever the debit alert says)
    IntentFrame("order_status", 3.0, "question: did the order go through",
                (r"(?:did|has|have|was|is|were|if|whether|don't|didn't)",
                 r"(?:order|purchase)",
                 r"(?:go|gone|went|been|don|get|got)?\s*(?:through|placed|created|successful|registered|recorded|"
                 r"submitted|enter|entered)\b"),
                3, r"(?:payment|money|refund|card|wallet|transfer|cancel\w*|return|exchange|not|never)",
                ("did", "has", "have", "was", "is", "were", "if", "whether", "don't", "didn't"), False),
    # a shopper asking whether the sellers or goods on the platform are real: a product question (a seller's own
    # store or account being verified is seller_support: no "my"/"our" in between)
    IntentFrame("general", 3.0, "question: are the sellers genuine",
                (r"(?:are|is|do|does|how\s+do\s+you\s+(?:know|check|verify|vet|ensure|make\s+sure)|how\s+can\s+"
                 r"(?:i|we)\s+(?:know|tell|be\s+sure))",
                 r"(?:sellers?|vendors?|merchants?|products?|items?|goods|brands?)",
                 r"(?:verified|vetted|screened|genuine|authentic|legit|legitimate|original|trusted|trustworthy|real|"
                 r"go\s+through\s+(?:any\s+)?(?:checks?|verification|vetting))"),
                4, r"(?:my|our|i|we|me|us)",
                ("are", "is", "do", "does", "how"), False),
    # whether you deliver to a place at all: "do you deliver outside Lagos?", "shipping to Calabar possible?", "can I
    # get the phone delivered to Accra?" is general (the team's corpus; the label convention of 2026-11-29), with or
    # without "and how long?"; delivering to the customer's own office or house is a delivery arrangement, and
    # delivery times, days, costs, couriers and customs stay shipping_delivery
    IntentFrame("general", 3.5, "question: do you deliver to a place",
                (r"(?:do|does|can|could|will|would)\s+(?:you(?:\s+guys)?|u(?:\s+guys)?|una|izonie|alkonect|conek)",
                 r"(?:deliver|ship)\s+(?:to|outside|within|into|across|abroad|internationally|nationwide|overseas|"
                 r"in(?!\s+(?:the\s+)?(?:morning|evening|afternoon|night|time|bulk|person)\b))\b" + _NOT_AN_ADDRESS),
                1, "", ("do", "does", "can", "could", "will", "would"), False),
    IntentFrame("general", 3.5, "question: delivery to a place possible",
                (r"(?<!express )(?<!same day )(?<!next day )(?<!free )(?:shipping|delivery|deliveries|deliver|ship)\s+"
                 r"(?:to|outside|into|in)\b" + _NOT_AN_ADDRESS,
                 r"(?:possible|available|an\s+option)"),
                4, r"(?:how|when|what|and|or|but|instead|fee|cost|price|time|days?)",
                ("possible", "available", "option"), False),
    IntentFrame("general", 3.5, "question: can I get it delivered to a place",
                (r"(?:can|could)\s+(?:i|we)\s+(?:get|have)",
                 r"(?:delivered|shipped)\s+(?:to|outside|into|in|abroad|overseas)\b" + _NOT_AN_ADDRESS),
                2, r"(?:parcel|package|order|shipment|delivery)", ("can", "could"), False),
    # how the product works, asked before anything went wrong: "do unused credits roll over?" (a bare "what happens
    # if ..." is not enough: "what happens if our payment is late?" is a billing question)
    IntentFrame("general", 3.0, "how-it-works question",
                (r"(?:roll|rolls|rolled|carry|carries|carried)\s+"
                 r"(?:over|forward)|(?:do|does|will)\s+(?:they|it|unused\s+\w+|the\s+\w+|our\s+\w+|my\s+\w+)\s+"
                 r"(?:\w+\s+)?(?:expire|reset|roll|carry|lapse)",),
                0, "", ("roll", "rolls", "rolled", "carry", "carries", "carried", "do", "does", "will"),
                False),
]
PATTERN_CUES += [(f.category, f.weight, f.label, frame_regex(f), f.triggers) for f in INTENT_FRAMES]
REMEDY_FRAME_LABELS: frozenset[str] = frozenset(f.label for f in INTENT_FRAMES if f.remedy)

# Who is writing: a writer who says they sell on the platform ("I'm a vendor", "seller here", "as a seller", "my
# listings", "my payout", "the buyer claims ...", "a product I listed"). A shopper names "the seller" or "a seller"
# as a third party and never calls their own store, listings or payouts "my"; "our customers" is left out (Conek's
# businesses have customers too).
SELLER_WRITER = (r"\b(?:(?:i'?m|i\s+am|we\s+are|we're|am)\s+(?:a|an)\s+(?:\w+\s+)?(?:seller|vendor|merchant|reseller)s?"
                 r"|(?:seller|vendor|merchant)\s+here|as\s+(?:a|an)\s+(?:seller|vendor|merchant)"
                 r"|(?:i|we)\s+(?:sell|sold|listed)|sell\s+on"
                 r"|(?:my|our)\s+(?:listings?|storefront|store|shop|payouts?|sales|buyers?)|(?:the|a)\s+buyers?)\b")
