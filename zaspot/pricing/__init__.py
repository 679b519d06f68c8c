"""A charging network on spot prices: price sources, the price feed, tariffs, session cost,
receipts, and what chargers are told of prices and costs."""
