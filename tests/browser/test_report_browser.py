"""The simulation report as a person opens it: a local file in Chromium, no network, no script."""

from scenarios.report import write_report
from tests.browser.conftest import screenshot
from tests.unit.test_report import synthetic_run


def test_a_day_of_payments_reads_as_pictures_in_the_browser(chromium, tmp_path):
    summary, events = synthetic_run(400, seed=2026)
    path = write_report(tmp_path / "rapport", summary, events)
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR",
                                   java_script_enabled=False)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())

    assert page.locator("h1").inner_text() == "Une journée synthétique de paiements"
    assert page.locator(".banner.passed").inner_text() == "✓ Attentes satisfaites (2 sur 2)"
    for heading in ("Attentes", "Chiffres clés", "États finaux", "Les transactions au fil du temps",
                    "Temps de réponse", "Montants", "Activité heure par heure"):
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    assert page.get_by_text("samedi 4 juillet 2026 à 08:00 (heure de Paris)").is_visible()
    assert page.get_by_text("12 h 00 min").is_visible()
    for state in ("Validé", "Refusé", "Abandonné", "Annulé", "Expiré", "Autorisé"):
        assert page.locator("table.counts td", has_text=state).first.is_visible(), state
    assert page.get_by_text("Refusé : délai de confirmation dépassé").is_visible()
    assert page.locator("p.note", has_text="paiements partiels (autorisé pour moins que demandé)").is_visible()

    plots = page.locator("figure .plot")
    assert plots.count() == 5
    for k in range(5):
        box = plots.nth(k).bounding_box()
        assert box and box["width"] > 1000 and box["height"] > 250, box  # drawn across the page, not collapsed
    assert requests == [path.as_uri()]  # everything is in the one file

    screenshot(page, "simulation-report-synthetic")
    context.close()


def test_a_library_scenario_run_in_process_reads_in_the_browser(chromium, tmp_path):
    """The README shows a real run: the booking engine's day, in-process, from its file."""
    from scenarios import spec
    from tests.scenarios.test_library import run_in_process

    run = run_in_process(spec.load(spec.find("moteur-reservation")))
    path = write_report(tmp_path / "rapport", run.summary, run.events)
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR",
                                   java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert page.locator("h1").inner_text() == run.summary["title"]
    assert page.locator(".banner.passed").is_visible()
    assert page.locator("figure .plot").count() == 5
    screenshot(page, "simulation-report")  # the README's own picture is made by `./dev pictures`
    context.close()
