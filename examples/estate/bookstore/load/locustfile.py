"""Load profile for the bookstore API.

Shoppers mostly browse the catalogue, sometimes open a book, and now and then
a member of staff adds a new title. Book ids come from the service's seeded
catalogue. The bearer token for adding books is read from ``BOOKSTORE_TOKEN``
(default ``demo-token``).

Run by hand with:
    locust -f locustfile.py --headless -u 20 -r 5 -t 20s --host http://127.0.0.1:8080
"""

import os
import random

from locust import FastHttpUser, between, task

SEEDED_BOOK_IDS = (1, 2, 3, 4, 5, 6)
PAGE_SIZES = (5, 10, 20, 50)
AUTHORS = ("Jane Austen", "Mary Shelley", "George Eliot", "Ursula K. Le Guin", "Chinua Achebe")


class Shopper(FastHttpUser):
    wait_time = between(0.05, 0.25)

    def on_start(self):
        token = os.environ.get("BOOKSTORE_TOKEN") or "demo-token"
        self.auth_headers = {"Authorization": f"Bearer {token}"}

    @task(6)
    def browse_catalogue(self):
        limit = random.choice(PAGE_SIZES)
        offset = random.choice((0, 0, 0, 5))
        with self.client.get(
            f"/books?limit={limit}&offset={offset}",
            name="/books",
            headers={"Accept": "application/json"},
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"unexpected status {response.status_code}")
            elif "items" not in response.json():
                response.failure("page without items")

    @task(3)
    def view_book(self):
        book_id = random.choice(SEEDED_BOOK_IDS)
        self.client.get(
            f"/books/{book_id}", name="/books/{bookId}", headers={"Accept": "application/json"}
        )

    @task(1)
    def add_book(self):
        isbn = "978" + "".join(random.choices("0123456789", k=10))
        book = {
            "title": f"Load test edition {random.randint(1, 1_000_000)}",
            "author": {"name": random.choice(AUTHORS)},
            "isbn": isbn,
            "price": round(random.uniform(5, 40), 2),
            "currency": random.choice(("EUR", "USD", "GBP")),
            "tags": ["load-test"],
        }
        with self.client.post(
            "/books", json=book, headers=self.auth_headers, name="/books", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"expected 201, got {response.status_code}")
