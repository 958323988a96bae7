#!/bin/sh
redis-cli XLEN quantum:stream:trade.intent
