"""The admin's Contacts page in a real browser: the import wizard end to end (preview,
mapping, live progress, report), export, edit with opt-out reason, merge, and 390 px."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from tests.factories import Tenant
from tests.helpers.browser import OpenTab, Tab


async def _contact(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/contacts", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _read(download: Any) -> bytes:
    path = Path(await (await download.value).path())
    return await asyncio.to_thread(path.read_bytes)


def _messy_csv(rows: int) -> bytes:
    lines = ["Nome;Celular;Cidade;Extra"]
    lines += [f"Pessoa {i};+55 11 9730{i:05d};Cidade {i % 5};lixo" for i in range(rows)]
    lines += [
        "Sem número;;Recife;",  # row rows+2
        "Ruim;123;Natal;",  # rows+3
        "Repetida;+55 11 973000000;Olinda;",  # rows+4: same number as row 2
        "José Ávila;+5511973099999;São Luís;",  # rows+5: exists already
    ]
    return "\r\n".join(lines).encode("cp1252")


async def test_import_wizard_export_edit_and_merge(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    await _contact(client, tenant, name="Antigo", number="+5511973099999")
    kept = await _contact(client, tenant, name="Carla Mendes", number="+5511973100001")
    other = await _contact(
        client,
        tenant,
        name="Carla M. duplicada",
        number="+5511973100002",
        email="carla@example.com",
    )
    rows = 1200
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#contacts", tenant.admin.email)
    await expect(page.locator(f'tr[data-contact-id="{kept["id"]}"]')).to_be_visible()

    # 1. Choose a file: the preview guesses the mapping from the Portuguese header.
    await page.click("#ct-import-open")
    await page.set_input_files(
        "#ci-file",
        files=[{"name": "contatos.csv", "mimeType": "text/csv", "buffer": _messy_csv(rows)}],
    )
    preview = page.locator("#ci-preview")
    await expect(preview).to_be_visible()
    await expect(page.locator("#ci-summary")).to_contain_text(f"{rows + 4} rows")
    await expect(page.locator("#ci-summary")).to_contain_text("cp1252")
    name_column = page.get_by_label("Field for column “Nome”")
    await expect(name_column).to_have_value("name")
    await expect(page.get_by_label("Field for column “Celular”")).to_have_value("number")
    await expect(page.get_by_label("Field for column “Cidade”")).to_have_value("custom:Cidade")
    await expect(preview.locator("tbody tr")).to_have_count(10)
    # 2. Map: the junk column is ignored; every contact gets a tag.
    await page.get_by_label("Field for column “Extra”").select_option("ignore")
    await page.fill("#ci-tags", "Lote 7")
    await admin.shot("preview")
    await page.click("#ci-start")

    # 3. The report: totals and the rows that were not imported as they stand.
    totals = page.locator("#ci-totals")
    await expect(totals).to_contain_text(f"Created {rows}", timeout=30_000)
    await expect(totals).to_contain_text("updated 1")
    await expect(totals).to_contain_text("merged 1")
    await expect(totals).to_contain_text("failed 2")
    report = page.locator("#ci-report tbody tr")
    await expect(report).to_have_count(3)
    await expect(report.nth(0)).to_contain_text(f"{rows + 2}")
    await expect(report.nth(0)).to_contain_text("missing number")
    await expect(report.nth(1)).to_contain_text("invalid number")
    await expect(report.nth(2)).to_contain_text("duplicate of row 2")
    # The progress bar was fed by the live feed, batch by batch.
    progress = [f["data"] for f in admin.frames if f.get("type") == "contacts.import.progress"]
    assert [p["done"] for p in progress] == [0, 500, 1000, rows + 1]
    assert await page.locator("#ci-progress").count() == 0  # replaced by the report
    link = page.locator("#ci-report-download")
    assert (await link.get_attribute("href") or "").startswith("blob:")
    async with page.expect_download() as report_download:
        await link.click()
    report_text = (await _read(report_download)).decode("utf-8-sig")
    assert report_text.splitlines()[0] == "row,value,reason,outcome"
    assert f"{rows + 3},123,invalid number,failed" in report_text
    await admin.shot("report")
    await page.click("#ci-close")
    imported = await client.get("/api/contacts", params={"q": "973000007"}, headers=tenant.headers)
    first = imported.json()["items"][0]
    assert first["name"] == "Pessoa 7"
    assert first["custom_fields"] == {"Cidade": "Cidade 2"}
    assert [t["name"] for t in first["tags"]] == ["Lote 7"]

    # Filters and export of the filtered view.
    await page.fill("#ct-search", "José")
    await expect(page.locator("#ct-list tbody tr")).to_have_count(1)
    await expect(page.locator("#ct-list tbody tr")).to_contain_text("José Ávila")
    async with page.expect_download() as export_download:
        await page.click("#ct-export")
    exported = await _read(export_download)
    assert exported.startswith(b"\xef\xbb\xbf")
    lines = exported.decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("José Ávila,'+5511973099999")

    # Edit: opt out with a reason.
    await page.fill("#ct-search", "Carla Mendes")
    row = page.locator(f'tr[data-contact-id="{kept["id"]}"]')
    await expect(page.locator("#ct-list tbody tr")).to_have_count(1)
    await row.locator('[data-action="edit"]').click()
    form = page.locator("#ct-form")
    await expect(form.get_by_label("Language")).to_have_value("")  # the company's
    await form.get_by_label("Language").select_option("es")
    await form.get_by_label("Opted out of campaigns").check()
    await form.get_by_label("Reason").fill("pediu por telefone")
    await page.click("#ct-save")
    await expect(row).to_contain_text("pediu por telefone")
    edited = await client.get(f"/api/contacts/{kept['id']}", headers=tenant.headers)
    assert edited.json()["language"] == "es"

    # Merge the duplicate into the kept contact.
    await row.locator('[data-action="merge"]').click()
    await page.fill("#ct-merge-search", "duplicada")
    pick = page.locator(f'#ct-merge-results li[data-contact-id="{other["id"]}"] button')
    await pick.click()
    await page.locator("dialog[open] [data-confirm]").click()
    await expect(page.locator("#ct-merge")).to_have_count(0)
    await expect(row).to_contain_text("carla@example.com")
    gone = await client.get(f"/api/contacts/{other['id']}", headers=tenant.headers)
    assert gone.status_code == 404
    assert admin.errors == [], admin.errors
    assert admin.dialogs == []


async def test_contacts_page_at_390px(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    for i in range(3):
        await _contact(client, tenant, name=f"Pessoa {i}", number=f"+55119731000{i + 10}")
    phone: Tab = await open_tab("phone", width=390, height=800)
    page = phone.page
    await phone.log_in(base_url, "/admin#contacts", tenant.admin.email)
    await expect(page.locator("#ct-list tbody tr")).to_have_count(3)
    await page.click("#ct-import-open")
    await expect(page.locator("#ci-file")).to_be_focused()
    await page.set_input_files(
        "#ci-file",
        files=[{"name": "c.csv", "mimeType": "text/csv", "buffer": _messy_csv(3)}],
    )
    await expect(page.locator("#ci-preview tbody tr")).to_have_count(7)
    # Nothing wider than the screen: the preview table scrolls inside its box.
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, overflow
    await phone.shot("390-preview")
    await page.click("#ci-start")
    await expect(page.locator("#ci-totals")).to_contain_text("Created 4")
    await phone.shot("390-report")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.errors == [], phone.errors
