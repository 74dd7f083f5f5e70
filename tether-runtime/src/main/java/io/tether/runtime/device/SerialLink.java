package io.tether.runtime.device;

import java.io.InputStream;
import java.io.OutputStream;

import com.fazecast.jSerialComm.SerialPort;
import com.fazecast.jSerialComm.SerialPortInvalidPortException;

/** A board on a serial port (USB CDC or a UART adapter), 8N1 at the configured rate. */
final class SerialLink implements DeviceLink {
    private final SerialPort port;

    private SerialLink(SerialPort port) {
        this.port = port;
    }

    /**
     * @throws DeviceException {@code LOST} when the port does not exist, is busy or cannot be opened
     */
    static SerialLink open(String path, int baud) throws DeviceException {
        SerialPort port;
        try {
            port = SerialPort.getCommPort(path);
        } catch (SerialPortInvalidPortException e) {
            throw new DeviceException(DeviceException.Kind.LOST, "no serial port " + path + ": " + e.getMessage());
        }
        port.setComPortParameters(baud, 8, SerialPort.ONE_STOP_BIT, SerialPort.NO_PARITY);
        // Reads wait for at least one byte, without a limit: the protocol's deadlines are ByteFeed's.
        port.setComPortTimeouts(SerialPort.TIMEOUT_READ_SEMI_BLOCKING | SerialPort.TIMEOUT_WRITE_BLOCKING, 0, 0);
        if (!port.openPort()) {
            throw new DeviceException(DeviceException.Kind.LOST, "cannot open the serial port " + path
                    + " (absent, unplugged, or held by another program; error " + port.getLastErrorCode() + ")");
        }
        return new SerialLink(port);
    }

    @Override
    public InputStream input() {
        return port.getInputStream();
    }

    @Override
    public OutputStream output() {
        return port.getOutputStream();
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public boolean isOpen() {
        return port.isOpen();
    }

    @Override
    public void close() {
        port.closePort();
    }
}
