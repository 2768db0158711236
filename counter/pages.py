"""The officer's console pages."""

from flask import Blueprint

bp = Blueprint("counter_pages", __name__, template_folder="templates")
