#!/bin/sh
redis-cli XADD quantum:stream:trade.intent '*' probe 1
