// Charts (lightweight-charts): candles of an instrument, kept live from trade prints, and
// time series (equity curves). Plotting needs numbers: prices are converted for drawing only;
// every figure shown as text stays the API's exact string. The library's logo is off (it injects
// an inline <style>, which the UI's CSP refuses); the attribution is in the page footer.
import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { type RefObject, useEffect, useRef, useState } from 'react';

import type { Candle } from '../api/types';
import { useLive } from '../app/live';
import { epochSeconds } from '../lib/time';

const THEME = {
  layout: { background: { type: ColorType.Solid, color: '#11161d' }, textColor: '#9aa7b4', attributionLogo: false },
  grid: { vertLines: { color: '#1d2530' }, horzLines: { color: '#1d2530' } },
  timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2a3440' },
  rightPriceScale: { borderColor: '#2a3440' },
  autoSize: true,
};

function useChart(): [RefObject<HTMLDivElement | null>, IChartApi | null] {
  const box = useRef<HTMLDivElement | null>(null);
  const [chart, setChart] = useState<IChartApi | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const made = createChart(box.current, THEME);
    setChart(made);
    return () => {
      setChart(null);
      made.remove();
    };
  }, []);
  return [box, chart];
}

interface Bar {
  time: UTCTimestamp;
  open: number;
  high: number;
  low: number;
  close: number;
}

function toBar(candle: Candle): Bar {
  return {
    time: epochSeconds(candle.time) as UTCTimestamp,
    open: Number(candle.open),
    high: Number(candle.high),
    low: Number(candle.low),
    close: Number(candle.close),
  };
}

/** Candles of one instrument; the forming bar follows the trade prints of the stream. */
export function CandleChart({ instrumentId, candles, stepS = 60 }: { instrumentId: string; candles: Candle[]; stepS?: number }) {
  const [box, chart] = useChart();
  const series = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const last = useRef<Bar | null>(null);
  const [formingTime, setFormingTime] = useState(0); // the open of a bar built from trades
  const live = useLive();

  useEffect(() => {
    if (!chart) return;
    const made = chart.addSeries(CandlestickSeries, {
      upColor: '#26a269',
      downColor: '#e5534b',
      wickUpColor: '#26a269',
      wickDownColor: '#e5534b',
      borderVisible: false,
    });
    series.current = made;
    return () => {
      series.current = null; // removed with the chart
    };
  }, [chart]);

  useEffect(() => {
    if (!chart || !series.current) return;
    const bars = candles.map(toBar);
    const forming = last.current;
    const newest = bars[bars.length - 1];
    // Keep a bar built from trades that the server has not closed yet.
    if (forming && (!newest || forming.time > newest.time)) bars.push(forming);
    series.current.setData(bars);
    last.current = bars[bars.length - 1] ?? null;
  }, [chart, candles]);

  useEffect(() => {
    last.current = null;
    return live.onTrade((trade) => {
      if (trade.instrumentId !== instrumentId || !series.current) return;
      const price = Number(trade.price);
      const time = (Math.floor(trade.timeNs / 1e9 / stepS) * stepS) as UTCTimestamp;
      const bar = last.current;
      if (bar && time < bar.time) return;
      const next =
        bar && bar.time === time
          ? { ...bar, high: Math.max(bar.high, price), low: Math.min(bar.low, price), close: price }
          : { time, open: price, high: price, low: price, close: price };
      last.current = next;
      series.current.update(next);
      if (next.time !== bar?.time) setFormingTime(next.time);
    });
  }, [live, instrumentId, stepS]);

  const newest = candles[candles.length - 1];
  const points = candles.length + (formingTime > (newest ? epochSeconds(newest.time) : 0) ? 1 : 0);
  return <div className="chart" ref={box} data-testid="candle-chart" data-points={chart ? points : 0} />;
}

/** A line (area) chart of values over time, e.g. an equity curve. */
export function ValueChart({ points, testId }: { points: { time: number; value: number }[]; testId: string }) {
  const [box, chart] = useChart();
  const series = useRef<ISeriesApi<'Area'> | null>(null);
  useEffect(() => {
    if (!chart) return;
    series.current = chart.addSeries(AreaSeries, {
      lineColor: '#4c9aff',
      topColor: 'rgba(76, 154, 255, 0.35)',
      bottomColor: 'rgba(76, 154, 255, 0.02)',
      lineWidth: 2,
    });
    return () => {
      series.current = null; // removed with the chart
    };
  }, [chart]);
  useEffect(() => {
    if (!chart || !series.current) return;
    series.current.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    chart.timeScale().fitContent();
  }, [chart, points]);
  return <div className="chart" ref={box} data-testid={testId} data-points={chart ? points.length : 0} />;
}
