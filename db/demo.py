"""The demo MPP (MPP_DEMO=1): real agencies, their usual services and counters.

Loaded only into an empty database. Demo people log in with the password
`giliran123` (change it before the building opens); the demo kiosk and
display tokens are printed by `flask --app wsgi demo-links` and written to
`instance/demo-devices.json`.
"""

import json
from pathlib import Path

from db import accounts, catalog
from db.connection import create_private, transaction

DEMO_PASSWORD = "giliran123"

# code, name, colour, [(prefix, service, requirements, quota, default service s)], counters
AGENCIES = [
    ("DUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "#1565c0", [
        ("A", "Perekaman & Cetak KTP-el", "KK asli, surat pengantar RT/RW bila pindahan", None, 420),
        ("B", "Kartu Keluarga (KK)", "KK lama, KTP-el, dokumen perubahan (akta/surat nikah)", None, 360),
        ("C", "Akta Kelahiran & Kematian", "Surat keterangan lahir/kematian, KK, KTP-el saksi", 120, 480),
    ], [1, 2, 3, 4]),
    ("IMIGRASI", "Kantor Imigrasi", "#00695c", [
        ("D", "Paspor Baru", "KTP-el, KK, akta kelahiran/ijazah, bukti bayar PNBP", 80, 600),
        ("E", "Penggantian Paspor", "KTP-el, paspor lama, bukti bayar PNBP", 60, 480),
    ], [5, 6]),
    ("POLRES", "Polres — Pelayanan SKCK", "#5d4037", [
        ("F", "SKCK Baru & Perpanjangan", "KTP-el, KK, akta kelahiran, pas foto 4x6 latar merah", None, 300),
    ], [7, 8]),
    ("BPJSKES", "BPJS Kesehatan", "#2e7d32", [
        ("G", "Pendaftaran Peserta JKN", "KTP-el, KK, buku tabungan", None, 420),
        ("H", "Perubahan Data & Pindah Faskes", "Kartu JKN-KIS, KTP-el, KK", None, 300),
    ], [9, 10]),
    ("BPJSTK", "BPJS Ketenagakerjaan", "#1b5e20", [
        ("J", "Klaim Jaminan Hari Tua (JHT)", "Kartu peserta, KTP-el, KK, paklaring, buku tabungan", 100, 600),
    ], [11, 12]),
    ("SAMSAT", "SAMSAT — Pajak Kendaraan", "#f9a825", [
        ("K", "Pajak Kendaraan Tahunan", "STNK asli, KTP-el pemilik", None, 240),
        ("L", "Pengesahan 5 Tahunan & Ganti Plat", "STNK, BPKB asli, KTP-el, hasil cek fisik", None, 480),
    ], [13, 14, 15]),
    ("PDAM", "PDAM Tirta — Air Minum", "#0277bd", [
        ("M", "Pasang Baru & Pengaduan", "KTP-el, denah lokasi, rekening listrik tetangga", None, 300),
    ], [16]),
    ("KPP", "KPP Pratama — Pajak", "#283593", [
        ("N", "NPWP & Aktivasi Coretax", "KTP-el, email dan nomor HP aktif", None, 360),
        ("P", "Konsultasi SPT Tahunan", "Bukti potong, NPWP/NIK", None, 600),
    ], [17, 18]),
    ("BANK", "Bank Daerah", "#c62828", [
        ("R", "Pembukaan Rekening & Layanan Nasabah", "KTP-el, NPWP bila ada", None, 420),
    ], [19, 20]),
    ("BNN", "BNN Kota — Surat Keterangan", "#6a1b9a", [
        ("S", "Surat Keterangan Hasil Pemeriksaan Narkotika", "KTP-el, pas foto 4x6, surat permohonan", 50, 900),
    ], [21]),
]


def load(conn, clock, instance_dir=None):
    """Fill an empty database with the demo MPP; returns the demo device tokens, or None."""
    with transaction(conn):
        if conn.execute("SELECT count(*) FROM agencies").fetchone()[0]:
            return None
        conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('mpp_name', ?)",
                     (json.dumps("Mal Pelayanan Publik Kota Giliran"),))
        conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('running_text', ?)",
                     (json.dumps("Selamat datang di Mal Pelayanan Publik. Siapkan dokumen asli "
                                 "sebelum dipanggil. Layanan tidak dipungut biaya kecuali PNBP "
                                 "resmi."),))
        agency_ids = {}
        for i, (code, name, color, services, counters) in enumerate(AGENCIES):
            agency = catalog.insert_agency(conn, code, name, color, None)
            conn.execute("UPDATE agencies SET sort = ? WHERE id = ?", (i, agency["id"]))
            agency_ids[code] = agency["id"]
            service_ids = []
            for prefix, sname, req, quota, service_s in services:
                row = catalog.insert_service(conn, agency["id"], prefix, sname, req, quota,
                                              None, None, 15, service_s, None)
                service_ids.append(row["id"])
            for number in counters:
                catalog.insert_counter(conn, agency["id"], number, f"Loket {number}",
                                        service_ids, None)
        accounts.insert_user(conn, "supervisor", DEMO_PASSWORD, "supervisor",
                              agency_ids["DUKCAPIL"], "Sri Wahyuni", None)
        officers = [("petugas1", "DUKCAPIL", "Budi Santoso"), ("petugas2", "DUKCAPIL", "Dewi Lestari"),
                    ("petugas3", "IMIGRASI", "Agus Salim"), ("petugas4", "SAMSAT", "Rina Marlina")]
        for username, code, full_name in officers:
            accounts.insert_user(conn, username, DEMO_PASSWORD, "officer", agency_ids[code],
                                  full_name, None)
        if not conn.execute("SELECT 1 FROM users WHERE username = 'admin'").fetchone():
            accounts.insert_user(conn, "admin", DEMO_PASSWORD, "admin", None, "Admin MPP", None)
        tokens = {}
        for kind, name in (("kiosk", "Kiosk Lobi Utama"), ("display", "TV Lobi Utama")):
            import secrets

            token = secrets.token_urlsafe(32)
            accounts.insert_device(conn, kind, name, None, token, None)
            tokens[kind] = token
    if instance_dir is not None:
        path = Path(instance_dir) / "demo-devices.json"
        path.unlink(missing_ok=True)
        create_private(path, json.dumps(tokens, indent=2).encode())  # device tokens: owner-only
    return tokens
