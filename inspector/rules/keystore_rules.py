"""Keystore rules: what is wrong before any connection is made.

The rules live by what they judge (keystore_load_rules: the store as Java opens it;
keystore_chain_rules: each entry's key and chain; keystore_cert_rules: each certificate; their
context is keystore_context's); here they are run as one set, in one order.
"""

from __future__ import annotations

import datetime as dt

from inspector.findings import Finding
from inspector.keystore.model import Keystore
from inspector.rules import RuleSet, keystore_cert_rules, keystore_chain_rules, keystore_load_rules
from inspector.rules.keystore_context import KeystoreContext

#: every keystore rule, in the order it runs (the order of findings a report does not sort)
RULES: RuleSet[KeystoreContext] = RuleSet.in_order(
    (keystore_load_rules.RULES, keystore_chain_rules.RULES, keystore_cert_rules.RULES),
    (
        keystore_load_rules.type_mismatch,
        keystore_load_rules.no_key_entry,
        keystore_chain_rules.key_mismatch,
        keystore_chain_rules.self_signed_or_misfiled,
        keystore_chain_rules.chain_incomplete,
        keystore_chain_rules.chain_order,
        keystore_cert_rules.validity,
        keystore_cert_rules.client_auth_usage,
        keystore_cert_rules.weak_crypto,
        keystore_load_rules.key_bag_ignored_by_java,
        keystore_load_rules.alias_unreachable,
        keystore_cert_rules.certificate_encoding,
        keystore_load_rules.java_cannot_load,
        keystore_cert_rules.key_cannot_sign,
        keystore_load_rules.multiple_keys,
        keystore_load_rules.key_password,
    ),
)


def check_keystore(store: Keystore, at: dt.datetime, alias: str | None = None) -> list[Finding]:
    return RULES.run(KeystoreContext(store, at, alias))
