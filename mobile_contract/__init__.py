"""The mobile API's wire contract (msgspec types) and a typed client; depends on nothing of fieldops."""

from mobile_contract.wire import CONTRACT_VERSION

__all__ = ["CONTRACT_VERSION"]
