"""The field cipher: tokens sealed one by one or by the batch open the same way."""

from __future__ import annotations

import base64
import hashlib
import hmac

from shequyun.residents.crypto import FieldCipher

KEY = "a data key of the test, long enough to be one"


def test_a_batch_seals_each_value_with_its_own_nonce_and_opens_like_single_tokens():
    cipher = FieldCipher(KEY)
    values = ["310101195003081234", "13800138000", "", "13800138000"]
    tokens = cipher.encrypt_many(values)
    assert [cipher.decrypt(t) for t in tokens] == values
    nonces = {base64.b64decode(t)[1:13] for t in [*tokens, cipher.encrypt(values[0])]}
    assert len(nonces) == len(values) + 1
    assert cipher.encrypt_many([]) == []


def test_the_lookup_hash_is_hmac_sha256_of_the_value():
    cipher = FieldCipher(KEY)
    mac = hmac.new(cipher._mac_key, b"13800138000", hashlib.sha256).hexdigest()
    assert cipher.lookup_hash("13800138000") == mac
    assert cipher.lookup_hash("13800138000") == FieldCipher(KEY).lookup_hash("13800138000")
