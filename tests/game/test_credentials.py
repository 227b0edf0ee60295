"""game.credentials: password hashes, session tokens and seat tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.credentials import (
    USERNAME,
    check_password,
    hash_password,
    issue_token,
    new_seat,
    verify_token,
)

CHEAP_N = 2**4  # scrypt's cheapest useful cost: these tests check logic, not strength
SECRET = b"cluster secret"
NOW = 1_764_500_000.0
DAY = 24 * 3600


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(body: bytes, secret: bytes = SECRET) -> str:
    """A token with ``body`` and a correct MAC: what only the secret's holder can make."""
    return f"{b64(body)}.{b64(hmac.new(secret, body, hashlib.sha256).digest())}"


# ---- passwords ------------------------------------------------------------------------------


def test_password_checks_against_its_own_hash() -> None:
    record = hash_password("correct horse", n=CHEAP_N)
    assert check_password("correct horse", record)


@pytest.mark.parametrize(
    "attempt",
    ["correct hors", "correct horse ", "Correct horse", "", "correct horse" * 2],
)
def test_other_password_does_not_check(attempt: str) -> None:
    assert not check_password(attempt, hash_password("correct horse", n=CHEAP_N))


def test_record_holds_salt_cost_and_hash_not_the_password() -> None:
    record = hash_password("correct horse", n=CHEAP_N)
    assert set(record) == {"salt", "n", "hash"}
    assert record["n"] == CHEAP_N
    assert len(record["salt"]) == 16
    assert b"correct horse" not in record["hash"]


def test_same_password_gets_a_new_salt_and_hash_each_time() -> None:
    first, second = (hash_password("correct horse", n=CHEAP_N) for _ in range(2))
    assert first["salt"] != second["salt"]
    assert first["hash"] != second["hash"]
    assert check_password("correct horse", first)
    assert check_password("correct horse", second)


def test_check_uses_the_cost_stored_in_the_record() -> None:
    record = hash_password("pw", n=2**5)
    assert check_password("pw", record)
    assert not check_password("pw", {**record, "n": 2**4})


def test_non_ascii_password_round_trips() -> None:
    record = hash_password("pässwörd 🔑", n=CHEAP_N)
    assert check_password("pässwörd 🔑", record)
    assert not check_password("passwörd 🔑", record)


@given(st.text(max_size=20), st.text(max_size=20))
def test_a_password_checks_exactly_against_itself(password: str, other: str) -> None:
    record = hash_password(password, n=2)
    assert check_password(password, record)
    assert check_password(other, record) == (other == password)


@pytest.mark.parametrize("n", [0, 1, 3, 6, 2**4 + 1, 2**10 - 1, -2, -(2**4)])
def test_scrypt_n_not_a_power_of_2_above_1_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match=f"power of 2 above 1, not {n}"):
        hash_password("pw", n=n)


@pytest.mark.parametrize("n", [2, 4, 2**4])
def test_scrypt_n_a_power_of_2_above_1_is_accepted(n: int) -> None:
    assert hash_password("pw", n=n)["n"] == n


# ---- session tokens -------------------------------------------------------------------------


def test_token_verifies_to_its_username() -> None:
    assert verify_token(issue_token("ana", SECRET, now=NOW), SECRET, now=NOW) == "ana"


def test_token_without_now_uses_the_clock() -> None:
    assert verify_token(issue_token("ana", SECRET), SECRET) == "ana"
    assert verify_token(issue_token("ana", SECRET, now=time.time() - DAY - 5), SECRET) is None


@given(st.from_regex(USERNAME, fullmatch=True), st.binary(min_size=1, max_size=64))
def test_any_username_and_secret_round_trip(username: str, secret: bytes) -> None:
    assert verify_token(issue_token(username, secret, now=NOW), secret, now=NOW) == username


def test_token_is_valid_for_24_hours() -> None:
    token = issue_token("ana", SECRET, now=NOW)
    assert verify_token(token, SECRET, now=NOW + DAY - 1) == "ana"
    assert verify_token(token, SECRET, now=NOW + DAY) == "ana"  # the expiry second itself
    assert verify_token(token, SECRET, now=NOW + DAY + 1) is None


def test_expired_token_is_refused() -> None:
    token = issue_token("ana", SECRET, now=NOW)
    assert verify_token(token, SECRET, now=NOW + 30 * DAY) is None


def test_token_of_another_secret_is_refused() -> None:
    token = issue_token("ana", b"other secret", now=NOW)
    assert verify_token(token, SECRET, now=NOW) is None


def test_token_with_tampered_body_is_refused() -> None:
    body_text, mac_text = issue_token("ana", SECRET, now=NOW).split(".")
    body = unb64(body_text).replace(b"ana", b"bob")
    assert verify_token(f"{b64(body)}.{mac_text}", SECRET, now=NOW) is None


def test_token_with_extended_expiry_is_refused() -> None:
    mac_text = issue_token("ana", SECRET, now=NOW).split(".")[1]
    forged = f"ana:{int(NOW + 365 * DAY)}".encode()
    assert verify_token(f"{b64(forged)}.{mac_text}", SECRET, now=NOW + 30 * DAY) is None


def test_token_with_tampered_mac_is_refused() -> None:
    body_text, mac_text = issue_token("ana", SECRET, now=NOW).split(".")
    mac = bytearray(unb64(mac_text))
    mac[0] ^= 1
    assert verify_token(f"{body_text}.{b64(bytes(mac))}", SECRET, now=NOW) is None


def test_token_with_truncated_mac_is_refused() -> None:
    body_text, mac_text = issue_token("ana", SECRET, now=NOW).split(".")
    assert verify_token(f"{body_text}.{mac_text[:-4]}", SECRET, now=NOW) is None


@given(st.data())
def test_one_changed_character_refuses_the_token_unless_the_bytes_are_the_same(
    data: st.DataObject,
) -> None:
    token = issue_token("ana", SECRET, now=NOW)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    character = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[index]))
    changed = token[:index] + character + token[index + 1 :]
    result = verify_token(changed, SECRET, now=NOW)
    try:
        same_bytes = [unb64(part) for part in changed.split(".")] == [
            unb64(part) for part in token.split(".")
        ]
    except ValueError:
        same_bytes = False
    assert result == ("ana" if same_bytes else None)


@pytest.mark.parametrize(
    "token",
    [
        None,
        b"a.b",
        42,
        ["a", "b"],
        "",
        ".",
        "abc",
        "a.b.c",
        "!!!.???",
        "é.é",
        "a" * 300 + "." + "b" * 300,
        "YW5h.",  # a body with no MAC
    ],
    ids=[
        "none",
        "bytes",
        "int",
        "list",
        "empty",
        "dot",
        "no_dot",
        "two_dots",
        "not_base64",
        "non_ascii",
        "over_512",
        "empty_mac",
    ],
)
def test_malformed_token_is_refused(token: object) -> None:
    assert verify_token(token, SECRET, now=NOW) is None


@pytest.mark.parametrize(
    "body",
    [
        b"ana",
        b"ana:",
        b":99999999999",
        b"ana:-5",
        b"ana:12ab",
        b"Ana:99999999999",
        b"\xff:99999999999",
    ],
    ids=["no_expiry", "empty_expiry", "no_username", "negative", "not_digits", "bad_name", "bytes"],
)
def test_signed_body_that_is_not_username_colon_expiry_is_refused(body: bytes) -> None:
    assert verify_token(signed(body), SECRET, now=NOW) is None


def test_username_not_allowed_is_refused_even_when_signed() -> None:
    assert verify_token(issue_token("no way!", SECRET, now=NOW), SECRET, now=NOW) is None


def test_signed_body_with_a_non_decimal_digit_expiry_is_refused() -> None:
    assert verify_token(signed("ana:²".encode()), SECRET, now=NOW) is None


@given(st.text(max_size=600) | st.from_regex(r"[A-Za-z0-9_=-]{0,120}\.[A-Za-z0-9_=-]{0,60}"))
def test_any_text_gives_none_or_a_username(token: str) -> None:
    result = verify_token(token, SECRET, now=NOW)
    assert result is None or USERNAME.fullmatch(result)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.binary(),
        st.lists(st.text()),
        st.dictionaries(st.text(), st.text()),
    )
)
def test_any_object_gives_none(token: object) -> None:
    assert verify_token(token, SECRET, now=NOW) is None


# ---- seat tokens ----------------------------------------------------------------------------


def test_seats_are_unique() -> None:
    seats = [new_seat() for _ in range(2000)]
    assert len(set(seats)) == len(seats)


def test_seat_is_url_safe_and_fits_the_protocol() -> None:
    seat = new_seat()
    assert 16 <= len(seat) <= 64
    assert set(seat) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
