"""People at their browsers, through Flask's test client: a merchant logged in to the Espace dédié."""

import re

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Merchant:
    def __init__(self, world, shop):
        self.client = world.app.test_client()
        self.get("/connexion")
        assert self.post("/connexion", login=shop["login"], password=shop["password"]).status_code == 302

    def get(self, path, **query):
        return self.client.get("/espace-ptl" + path, query_string=query)

    def post(self, path, **form):
        token = CSRF.search(self.get("/connexion").get_data(as_text=True))  # the session's token, on any form
        return self.client.post("/espace-ptl" + path, data={"csrf_token": token.group(1), **form})


def step1(merchant, timing="immediat", validation="non", **more):
    """ENCAISSER step 1, Choix du paiement."""
    return merchant.post("/encaisser", timing=timing, validation=validation, **more)


def step2(merchant, amount="40,00", order_id="REF-1", **more):
    """ENCAISSER step 2, Demande."""
    return merchant.post("/encaisser/demande", amount=amount, order_id=order_id, **more)
