"""The pytest plugin (issue 15, item 4), used as an integrator would: from a test file outside the
project's tests, run by pytest in a folder of its own, with the plugin loaded from its entry point."""

from __future__ import annotations

from sandbox.client import shop_client
from tests.conftest import serving

pytest_plugins = ["pytester"]

INTEGRATOR_TESTS = '''
import pytest


def test_a_payment_by_a_beneficiary_who_pays_in_full_is_validated(ancv_sandbox):
    kit = ancv_sandbox.kit()
    tx = kit.create_transaction("order-1", "1", 4000)["transaction"]
    kit.set_payer(tx["id"], ancv_sandbox.beneficiary("pay_full")["beneficiaryId"])
    ancv_sandbox.advance(60)
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "VALIDATED"


def test_the_next_test_starts_from_the_seeded_state(ancv_sandbox):
    assert ancv_sandbox.events("TransactionInitialized") == []
    kit = ancv_sandbox.kit()
    kit.create_transaction("order-2", "1", 1500)


@pytest.mark.ancv_sandbox_keep
def test_a_test_marked_keep_sees_what_the_previous_one_left(ancv_sandbox):
    assert len(ancv_sandbox.events("TransactionInitialized")) == 1


def test_helpers_give_urls_keys_mail_and_manual_answers(ancv_sandbox):
    assert ancv_sandbox.kit_url == ancv_sandbox.url + "/acquisition/api/public/v1"
    provider = ancv_sandbox.provider()
    assert provider["key"] and provider["keyVersion"]
    shop = ancv_sandbox.shop(provider=provider)
    kit = ancv_sandbox.kit(shop, provider=provider)
    assert kit.point_of_sale().status == 200
    ben = ancv_sandbox.beneficiary("manual")
    tx = kit.create_transaction("order-3", "1", 2500)["transaction"]
    assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
    paid = ancv_sandbox.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]
    assert paid["state"] == "VALIDATED"
    assert isinstance(ancv_sandbox.webhooks(), list) and isinstance(ancv_sandbox.emails(), list)


def test_the_journal_shows_a_refused_seal_and_what_the_sandbox_sealed(ancv_sandbox):
    shop = ancv_sandbox.shop()
    assert ancv_sandbox.kit(dict(shop, key="0" * 32)).point_of_sale().status == 403
    refused = ancv_sandbox.requests(status=403)
    assert [e["path"].rsplit("/", 1)[-1] for e in refused] == [str(shop["shopId"])]
    assert refused[0]["seal"]["verdict"] == "invalid" and refused[0]["seal"]["sealedString"]
    ancv_sandbox.clear_requests()
    assert ancv_sandbox.requests(status=403) == []


def test_a_fault_makes_the_next_creation_fail_once(ancv_sandbox):
    ancv_sandbox.fault("createTransaction", "error", status=503, times=1)
    kit = ancv_sandbox.kit()
    assert kit.create_transaction("order-4", "1", 4000).status == 503
    assert kit.create_transaction("order-4", "1", 4000).status == 201


def test_faults_do_not_outlive_their_test(ancv_sandbox):
    ancv_sandbox.fault("*", "error", status=500)
    assert len(ancv_sandbox.faults()) == 1


def test_so_the_next_test_has_none(ancv_sandbox):
    assert ancv_sandbox.faults() == []
    assert ancv_sandbox.kit().create_transaction("order-5", "1", 4000).status == 201
'''


def test_an_integrators_test_file_gets_a_ready_sandbox_reset_between_tests(pytester):
    pytester.makepyfile(test_checkout=INTEGRATOR_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--basetemp={pytester.path / 'tmp'}")
    result.assert_outcomes(passed=8)
    assert len(list(pytester.path.glob("tmp/**/serve.log"))) == 1  # one server for the whole session


def test_the_plugin_adds_its_option_and_marker_and_starts_nothing_unasked(pytester):
    pytester.makepyfile(test_plain="def test_nothing_to_do_with_the_sandbox():\n    assert True\n")
    assert pytester.runpytest("-p", "no:cacheprovider", f"--basetemp={pytester.path / 'tmp'}").ret == 0
    assert not list(pytester.path.glob("tmp/**/serve.log"))
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--ancv-sandbox-url" in help_text
    assert "ancv_sandbox_keep" in pytester.runpytest("--markers").stdout.str()


def test_with_a_url_the_fixture_uses_that_running_server_and_still_resets_it(pytester, tmp_path):
    with serving(tmp_path, "--clock", "virtual", db=":memory:") as (base, control, _, _):
        shop = next(p for p in control.fixtures()["pointsOfSale"]
                    if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        left_over = shop_client(control.transport, shop).create_transaction("before", "1", 4000)["transaction"]
        pytester.makepyfile(test_running=f'''
def test_the_fixture_is_the_running_server_put_back_to_its_seed(ancv_sandbox):
    assert ancv_sandbox.url == "{base}"
    assert ancv_sandbox.kit().get_transaction("{left_over["id"]}").status == 404
''')
        result = pytester.runpytest("-p", "no:cacheprovider", f"--basetemp={pytester.path / 'tmp'}",
                                    f"--ancv-sandbox-url={base}")
        result.assert_outcomes(passed=1)
        assert not list(pytester.path.glob("tmp/**/serve.log"))  # no server of its own


HTTPS_TESTS = '''
import pytest
import requests


def test_the_sandbox_speaks_https_verified_against_its_own_ca(ancv_sandbox):
    assert ancv_sandbox.url.startswith("https://127.0.0.1:")
    assert ancv_sandbox.kit().point_of_sale().status == 200
    assert requests.get(ancv_sandbox.url + "/_sandbox/health", verify=str(ancv_sandbox.ca_file)).ok
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(ancv_sandbox.url + "/_sandbox/health", verify=True)
'''


def test_with_tls_the_fixture_serves_https_and_gives_its_ca_file(pytester):
    pytester.makepyfile(test_https=HTTPS_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--basetemp={pytester.path / 'tmp'}", "--ancv-sandbox-tls")
    result.assert_outcomes(passed=1)
